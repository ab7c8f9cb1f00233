import { describe, expect, it } from 'vitest';
import { driveScenarioTraffic } from '../../../cluster/capture/drive.js';
import { loadScenario, type Scenario } from '../../../cluster/scenarios/catalog.js';
import type { RequestResult } from '../../../cluster/traffic/http-client.js';

/** A client that answers every request at once; records its arguments and when it started. */
function fakeClients(log: string[]) {
  return async (args: string[], onResult: () => void): Promise<RequestResult[]> => {
    const n = Number(args[args.indexOf('--requests') + 1]);
    const keepAlive = args.includes('--keep-alive');
    log.push(`client ${args.join(' ')}`);
    const out: RequestResult[] = [];
    for (let i = 1; i <= n; i++) {
      await Promise.resolve();
      log.push(`${keepAlive ? 'long' : 'short'} ${i}`);
      out.push({ i, conn: keepAlive ? 1 : i, localPort: null, remote: null, status: 200, hostname: 'pod', clientAddress: null, xff: null, ms: 1, error: null });
      onResult();
    }
    return out;
  };
}

describe('driveScenarioTraffic', () => {
  it('drain: long-lived clients beside the short ones, the event fired once its share is answered, on the pod it names', async () => {
    const scenario = loadScenario('drain');
    const log: string[] = [];
    const deleted: string[] = [];
    const r = await driveScenarioTraffic({
      scenario,
      requests: 10,
      startClient: fakeClients(log),
      podsMatching: async (selector) => (selector === 'app=deploy-websrv' ? ['echo-b', 'echo-a'] : []),
      deletePod: async (name) => {
        deleted.push(name);
        log.push(`delete ${name}`);
      },
      progress: () => undefined,
    });
    // at: 0.2 of 10 requests → after the 2nd answer; index 0 of the pods sorted by name.
    expect(deleted).toEqual(['echo-a']);
    expect(log.indexOf('delete echo-a')).toBeGreaterThan(log.indexOf('short 2'));
    expect(log.filter((l) => l.startsWith('client'))).toEqual([
      'client --keep-alive --requests 60 --interval-ms 100',
      'client --keep-alive --requests 60 --interval-ms 100',
      'client --requests 10 --interval-ms 50',
    ]);
    expect(r.short).toHaveLength(10);
    expect(r.long).toHaveLength(120);
    expect(r.eventErrors).toEqual([]);
  });

  it('an event that matches no pod is reported, not thrown; no events means requests back to back', async () => {
    const drain = loadScenario('drain');
    const scenario: Scenario = { ...drain, traffic: { ...drain.traffic, longLived: null } };
    const r = await driveScenarioTraffic({ scenario, requests: 5, startClient: fakeClients([]), podsMatching: async () => [], deletePod: async () => undefined, progress: () => undefined });
    expect(r.eventErrors).toEqual(['no pod #0 matches app=deploy-websrv']);
    expect(r.long).toEqual([]);
    const log: string[] = [];
    await driveScenarioTraffic({ scenario: loadScenario('local-policy'), requests: 3, startClient: fakeClients(log), podsMatching: async () => [], deletePod: async () => undefined, progress: () => undefined });
    expect(log[0]).toBe('client --requests 3 --interval-ms 0');
  });
});
