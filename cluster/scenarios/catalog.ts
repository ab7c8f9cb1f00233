/**
 * The scenario catalogue: each scenario is a folder holding real Kubernetes YAML
 * (`manifests.yaml`), and `scenario.yaml` with the traffic plan and the lesson it must show.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { NetlabError } from '../../analyzer/errors.js';
import { PROJECT_ROOT } from '../exec/paths.js';

export const CATALOG_DIR = path.join(PROJECT_ROOT, 'cluster', 'scenarios');

/** Scenario labs run the NLB's timers ten times faster: health checks settle in seconds. */
export const DEFAULT_TIME_SCALE = 10;

export type Verdict = 'peer' | 'ppv2' | 'xff' | 'lost';
const VERDICTS: readonly string[] = ['peer', 'ppv2', 'xff', 'lost'];

export interface ScenarioEvent {
  /** When, as a fraction of the traffic run (0..1). */
  at: number;
  action: 'delete-pod';
  selector: string;
  index: number;
}

export interface Scenario {
  name: string;
  dir: string;
  summary: string;
  manifestsFile: string;
  manifests: string;
  namespace: string;
  /** Label selector (k=v) of pods captured with role "gateway". */
  gateway: string | null;
  lab: { nodes: number; timeScale: number };
  traffic: {
    from: string;
    service: string;
    via: 'loadBalancer' | 'nodePort' | 'clusterIP';
    node: string | null;
    requests: number;
    longLived: { connections: number; intervalMs: number; requests: number } | null;
  };
  events: ScenarioEvent[];
  expect: {
    clientIpAtBackend: Verdict;
    share: number;
    lbDecisions: number | null;
    crossNode: boolean | null;
    sourceSeenByBackend: 'lb' | 'node' | 'client' | null;
    unhealthyTargets: number | null;
    readinessGate: boolean;
    draining: boolean;
  };
}

function fail(file: string, what: string): never {
  throw new NetlabError(what, { where: file, hint: 'see docs/scenarios.md for the scenario.yaml format' });
}

function num(file: string, v: unknown, key: string, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, `${key} must be a number`);
  return v;
}

function str(file: string, v: unknown, key: string, dflt?: string): string {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !v) fail(file, `${key} must be a non-empty string`);
  return v;
}

/** Parse and check a scenario folder; every problem is one line naming the file. */
export function loadScenarioDir(dir: string): Scenario {
  const file = path.join(dir, 'scenario.yaml');
  const manifestsFile = path.join(dir, 'manifests.yaml');
  if (!existsSync(file)) throw new NetlabError(`no scenario.yaml in ${dir}`, { hint: 'run netlab scenarios for the catalogue, or give a folder with scenario.yaml and manifests.yaml' });
  if (!existsSync(manifestsFile)) fail(manifestsFile, 'missing (the scenario\'s Kubernetes YAML)');
  let doc: Record<string, unknown>;
  try {
    doc = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof YAMLParseError) fail(`${file}:${err.linePos?.[0]?.line ?? '?'}`, err.message.split('\n')[0]!);
    throw err;
  }
  const lab = (doc.lab ?? {}) as Record<string, unknown>;
  const t = (doc.traffic ?? fail(file, 'traffic is required')) as Record<string, unknown>;
  const e = (doc.expect ?? fail(file, 'expect is required')) as Record<string, unknown>;
  const via = str(file, t.via, 'traffic.via');
  if (!['loadBalancer', 'nodePort', 'clusterIP'].includes(via)) fail(file, `traffic.via must be loadBalancer, nodePort or clusterIP, not ${via}`);
  const verdict = str(file, e.clientIpAtBackend, 'expect.clientIpAtBackend');
  if (!VERDICTS.includes(verdict)) fail(file, `expect.clientIpAtBackend must be one of ${VERDICTS.join(', ')}`);
  const ll = t.longLived as Record<string, unknown> | undefined;
  const events = ((doc.events ?? []) as Array<Record<string, unknown>>).map((ev, i) => {
    if (ev.action !== 'delete-pod') fail(file, `events[${i}].action must be delete-pod`);
    return { at: num(file, ev.at, `events[${i}].at`), action: 'delete-pod' as const, selector: str(file, ev.selector, `events[${i}].selector`), index: num(file, ev.index, `events[${i}].index`, 0) };
  });
  const optBool = (v: unknown) => (typeof v === 'boolean' ? v : null);
  const optNum = (v: unknown, key: string) => (v === undefined ? null : num(file, v, key));
  return {
    name: path.basename(dir),
    dir,
    summary: str(file, doc.summary, 'summary'),
    manifestsFile,
    manifests: readFileSync(manifestsFile, 'utf8'),
    namespace: str(file, doc.namespace, 'namespace', 'default'),
    gateway: typeof doc.gateway === 'string' ? doc.gateway : null,
    lab: { nodes: num(file, lab.nodes, 'lab.nodes', 3), timeScale: num(file, lab.timeScale, 'lab.timeScale', DEFAULT_TIME_SCALE) },
    traffic: {
      from: str(file, t.from, 'traffic.from'),
      service: str(file, t.service, 'traffic.service'),
      via: via as Scenario['traffic']['via'],
      node: typeof t.node === 'string' ? t.node : null,
      requests: num(file, t.requests, 'traffic.requests', 100),
      longLived: ll ? { connections: num(file, ll.connections, 'traffic.longLived.connections'), intervalMs: num(file, ll.intervalMs, 'traffic.longLived.intervalMs'), requests: num(file, ll.requests, 'traffic.longLived.requests') } : null,
    },
    events,
    expect: {
      clientIpAtBackend: verdict as Verdict,
      share: num(file, e.share, 'expect.share', 0.99),
      lbDecisions: optNum(e.lbDecisions, 'expect.lbDecisions'),
      crossNode: optBool(e.crossNode),
      sourceSeenByBackend: (e.sourceSeenByBackend as Scenario['expect']['sourceSeenByBackend']) ?? null,
      unhealthyTargets: optNum(e.unhealthyTargets, 'expect.unhealthyTargets'),
      readinessGate: e.readinessGate === true,
      draining: e.draining === true,
    },
  };
}

/** A catalogue name or a user's folder. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtIn = path.join(CATALOG_DIR, nameOrPath);
  if (/^[a-z0-9-]+$/.test(nameOrPath) && existsSync(path.join(builtIn, 'scenario.yaml'))) return loadScenarioDir(builtIn);
  if (existsSync(nameOrPath) && statSync(nameOrPath).isDirectory()) return loadScenarioDir(path.resolve(nameOrPath));
  throw new NetlabError(`unknown scenario '${nameOrPath}'`, { hint: `choose one of: ${listScenarioNames().join(', ')} — or give a folder path` });
}

export function listScenarioNames(): string[] {
  return readdirSync(CATALOG_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(CATALOG_DIR, d.name, 'scenario.yaml')))
    .map((d) => d.name)
    .sort();
}

export function listScenarios(): Scenario[] {
  return listScenarioNames().map((n) => loadScenarioDir(path.join(CATALOG_DIR, n)));
}
