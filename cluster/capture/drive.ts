/**
 * A scenario's traffic and events, the same on every provider: long-lived connections (to watch
 * draining) beside N short requests, and each scenario event fired once its share of the short
 * requests has been answered. Where the clients run and how a pod is deleted is the provider's.
 */
import type { Scenario } from '../scenarios/catalog.js';
import type { RequestResult } from '../traffic/http-client.js';

export interface TrafficDriver {
  scenario: Scenario;
  requests: number;
  /** Starts one traffic client with these arguments; resolves with its results when it exits. */
  startClient(args: string[], onResult: () => void): Promise<RequestResult[]>;
  /** Names of the pods (not being deleted) of the scenario's namespace that a label selector matches. */
  podsMatching(selector: string): Promise<string[]>;
  deletePod(name: string): Promise<unknown>;
  progress(message: string): void;
}

export interface DrivenTraffic {
  short: RequestResult[];
  long: RequestResult[];
  /** Events that could not run (no pod matched), one line each. */
  eventErrors: string[];
}

export async function driveScenarioTraffic(d: TrafficDriver): Promise<DrivenTraffic> {
  const { scenario, requests } = d;
  const events = [...scenario.events].sort((a, b) => a.at - b.at);
  const eventErrors: string[] = [];
  const fire = async (answered: number) => {
    while (events.length && answered >= Math.ceil(events[0]!.at * requests)) {
      const ev = events.shift()!;
      const victim = (await d.podsMatching(ev.selector)).sort((a, b) => a.localeCompare(b))[ev.index];
      if (!victim) {
        eventErrors.push(`no pod #${ev.index} matches ${ev.selector}`);
        continue;
      }
      d.progress(`deleting pod ${victim}`);
      await d.deletePod(victim);
    }
  };
  const ll = scenario.traffic.longLived;
  const longLived = ll
    ? Array.from({ length: ll.connections }, () => d.startClient(['--keep-alive', '--requests', String(ll.requests), '--interval-ms', String(ll.intervalMs)], () => undefined))
    : [];
  let done = 0;
  let pendingEvent: Promise<void> = Promise.resolve();
  // Spaced out when events happen during the run, so they land among the requests.
  const short = await d.startClient(['--requests', String(requests), '--interval-ms', scenario.events.length ? '50' : '0'], () => {
    done++;
    if (done % 10 === 0 || done === requests) d.progress(`requests ${done}/${requests}`);
    pendingEvent = pendingEvent.then(() => fire(done));
  });
  await pendingEvent;
  const long = (await Promise.all(longLived)).flat();
  return { short, long, eventErrors };
}
