/**
 * `netlab capture --scenario NAME`: stand up (or reuse) the lab, apply the scenario, capture at
 * every point while real requests flow, then analyze the packets and judge the lesson.
 * Every step reports progress through `onProgress`; nothing here prints.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { analyze } from '../../analyzer/analyze.js';
import type { AddressOwner } from '../../analyzer/hops/infer.js';
import type { AnalysisResult } from '../../analyzer/hops/types.js';
import { toContractJson } from '../../analyzer/report/json.js';
import { run, spawn } from '../exec/exec.js';
import { builtScript } from '../exec/paths.js';
import { applyManifests, deleteManifests, deletePodNow, waitForPods } from '../lab/api.js';
import { labDir } from '../lab/names.js';
import { readState, requireState, type LabPod, type LabState, type Service } from '../lab/state.js';
import { isNlbService } from '../model/services.js';
import { CLIENT_NETWORK, NODE_NETWORK, POD_NETWORK, REGION, SERVICE_NETWORK } from '../netns/plan.js';
import { NetnsProvider } from '../netns/provider.js';
import { checkLabBuild } from '../netns/provision.js';
import { NLB_EXTENSION, type NlbExtension } from '../nlb/controller.js';
import { NLB_PUBLIC_PREFIX, zoneNodes } from '../nlb/dataplane/topology.js';
import { serviceTargetHealth } from '../nlb/describe.js';
import type { DescribeTargetHealthOutput } from '../nlb/health/view.js';
import { loadScenario, type Scenario } from '../scenarios/catalog.js';
import type { RequestResult } from '../traffic/http-client.js';
import { collectResults } from '../traffic/results.js';
import { capAvailable, startCap } from './cap.js';
import type { ContractReport, TargetHealthSample } from '../../analyzer/report/contract.js';
import { startGroundTruth } from './groundtruth.js';
import { readinessGateHeld, type LessonCheck } from './lesson.js';
import { concludeRun } from './conclude.js';
import { driveScenarioTraffic } from './drive.js';
import { buildManifest, makeRunDir, writeManifest } from './manifest.js';
import { DEFAULT_FILTER, type CaptureTarget, type CapturedFile } from './points.js';
import { startTcpdump } from './tcpdump.js';
import { startEbpfCapturer } from './ebpf/capturer.js';
import { compareSources } from './sources.js';

export type Capturer = 'cap' | 'tcpdump';
/** pcap: per-namespace captures; ebpf: one bpftrace probe for all; both: each, analyzed and compared. */
export type Source = 'pcap' | 'ebpf' | 'both';

export interface CaptureOptions {
  scenario: string;
  lab: string;
  requests?: number;
  outDir?: string;
  /** tcpdump by default: kernel timestamps and the kernel's drop counter (cap exposes neither). */
  capturer?: Capturer;
  source?: Source;
  keep?: boolean;
  /** netns (default) or kind: the kind provider's run lives in cluster/kind/capture.ts. */
  provider?: 'netns' | 'kind';
  onProgress?: (message: string) => void;
}

export interface CaptureRun {
  scenario: Scenario;
  outDir: string;
  /** `provider` is there for runs outside the netns lab. */
  report: ContractReport & { scenario: string; outDir: string; provider?: 'kind' };
  /** describe-target-health polled during the run (NLB scenarios). */
  timeline: TargetHealthSample[];
  analysis: AnalysisResult;
  checks: LessonCheck[];
  verdict: string;
  requests: { sent: number; answered: number; failed: number; hostnames: Record<string, number>; clientAddresses: Record<string, number> };
  captures: Array<{ point: string; file: string; packets: number; dropped: number | null }>;
  /** The eBPF source's totals and, with --source both, whether it tells the same story as pcap. */
  ebpf: {
    events: number;
    lost: number;
    /** Events that came too late to be put back in time order (see ebpf/reorder.ts). */
    lateEvents: number;
    /** Namespaces made during the run that the probe traced from their creation (pods born mid-run). */
    learnedNamespaces: string[];
    agreesWithPcap: boolean | null;
    differences: string[];
  } | null;
  labSeconds: number;
  totalSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function ensureLab(scenario: Scenario, lab: string, progress: (m: string) => void): Promise<LabState> {
  const existing = await readState(lab);
  const workers = scenario.lab.nodes - 1;
  if (existing && existing.phase === 'ready') {
    await checkLabBuild(existing);
    const have = existing.nodes.filter((n) => n.role === 'worker').length;
    if (have < workers) {
      throw new NetlabError(`lab '${lab}' has ${have} workers; scenario ${scenario.name} needs ${workers}`, { hint: `netlab down --name ${lab} and let netlab capture create it, or netlab up --name ${lab} --nodes ${scenario.lab.nodes}` });
    }
    progress(`reusing lab ${lab} (${existing.nodes.length} nodes)`);
    return existing;
  }
  progress(`creating lab ${lab}: ${scenario.lab.nodes} nodes, time scale ${scenario.lab.timeScale}`);
  const state = await new NetnsProvider().up({ name: lab, nodes: scenario.lab.nodes, zones: ['a', 'b'], timeScale: scenario.lab.timeScale });
  if (!state) throw new NetlabError(`lab '${lab}' did not come up`, { hint: `see netlab status --name ${lab}` });
  return state;
}

function findService(state: LabState, ns: string, name: string): Service {
  const svc = state.objects.services.find((s) => s.metadata?.name === name && (s.metadata?.namespace ?? 'default') === ns);
  if (!svc) throw new NetlabError(`scenario traffic targets Service ${ns}/${name}, which the lab does not have`, { hint: 'check traffic.service in scenario.yaml' });
  return svc;
}

function selectorMatches(pod: LabPod, selector: string): boolean {
  return selector.split(',').every((kv) => {
    const [k, v] = kv.split('=');
    return pod.object.metadata?.labels?.[k!.trim()] === v?.trim();
  });
}

/** Wait until the Service's load balancer is there and has answered health checks. */
async function waitForLoadBalancer(lab: string, scenario: Scenario, progress: (m: string) => void, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ns = scenario.namespace;
  let last = '';
  while (Date.now() < deadline) {
    const state = await requireState(lab);
    const svc = findService(state, ns, scenario.traffic.service);
    if (scenario.traffic.via !== 'loadBalancer') return;
    const ingress = svc.status?.loadBalancer?.ingress ?? [];
    if (isNlbService(svc)) {
      try {
        const th = await serviceTargetHealth(state, labDir(lab), ns, scenario.traffic.service);
        const states = th.aws.TargetHealthDescriptions.map((t) => t.TargetHealth.State);
        const msg = `waiting for healthy targets: ${states.join(', ') || 'none registered'}`;
        if (msg !== last) progress((last = msg));
        if (ingress.length > 0 && states.includes('healthy') && !states.includes('initial')) return;
      } catch (err) {
        if (!(err instanceof NetlabError)) throw err;
      }
    } else if (ingress.some((i) => i.ip) && Object.keys(state.metallb.leaders).length > 0) {
      return;
    }
    await sleep(250);
  }
  throw new NetlabError(`the load balancer of ${ns}/${scenario.traffic.service} was not ready within ${timeoutMs / 1000} s: ${last}`, { hint: `look at netlab status --name ${lab}` });
}

/** Where the requests go, as the scenario's client would address it. */
function trafficUrl(state: LabState, scenario: Scenario): string {
  const svc = findService(state, scenario.namespace, scenario.traffic.service);
  const port = svc.spec?.ports?.[0];
  if (!port) throw new NetlabError(`Service ${scenario.traffic.service} has no ports`, { where: scenario.manifestsFile });
  switch (scenario.traffic.via) {
    case 'loadBalancer': {
      const ing = svc.status?.loadBalancer?.ingress?.[0];
      const host = ing?.hostname ?? ing?.ip;
      if (!host) throw new NetlabError(`Service ${scenario.traffic.service} has no load balancer address yet`);
      return `http://${host}:${port.port}/`;
    }
    case 'nodePort': {
      const node = state.nodes.find((n) => n.name === (scenario.traffic.node ?? state.nodes.find((x) => x.role === 'worker')?.name));
      if (!node) throw new NetlabError(`no node ${scenario.traffic.node} in lab ${state.name}`, { where: path.join(scenario.dir, 'scenario.yaml') });
      return `http://${node.ip}:${port.nodePort}/`;
    }
    case 'clusterIP':
      return `http://${svc.spec?.clusterIP}:${port.port}/`;
  }
}

/** The pod the requests come from when `traffic.from` is a label selector (not `client`). */
function sourcePod(state: LabState, scenario: Scenario): LabPod {
  const pod = state.pods.find((p) => !p.deleting && (p.object.metadata?.namespace ?? 'default') === scenario.namespace && selectorMatches(p, scenario.traffic.from));
  if (!pod) throw new NetlabError(`no pod matches traffic.from ${scenario.traffic.from}`, { where: path.join(scenario.dir, 'scenario.yaml'), hint: 'use client, or a label selector of a pod the manifests create' });
  return pod;
}

function sourceIp(state: LabState, scenario: Scenario): string {
  return scenario.traffic.from === 'client' ? state.client.ip : (sourcePod(state, scenario).object.status?.podIP ?? '');
}

function fromNetns(state: LabState, scenario: Scenario): string {
  return scenario.traffic.from === 'client' ? state.client.netns : sourcePod(state, scenario).netns;
}

async function interfaces(netns: string): Promise<string[]> {
  const r = await run('ip', ['-n', netns, '-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n !== 'lo');
}

async function planTargets(state: LabState, scenario: Scenario): Promise<CaptureTarget[]> {
  const targets: CaptureTarget[] = [{ name: 'client', role: 'client', netns: state.client.netns, node: null, pod: null, namespace: null, interfaces: ['eth0'] }];
  const ext = state.extensions[NLB_EXTENSION] as NlbExtension | undefined;
  const svc = findService(state, scenario.namespace, scenario.traffic.service);
  if (ext && isNlbService(svc)) {
    for (const zn of zoneNodes(state.name, REGION, ext.zones)) targets.push({ name: `nlb-${zn.short}`, role: 'lb', netns: zn.netns, node: null, pod: null, namespace: null, interfaces: await interfaces(zn.netns) });
  }
  for (const n of state.nodes.filter((x) => x.role === 'worker')) targets.push({ name: n.name, role: 'node', netns: n.netns, node: n.name, pod: null, namespace: null, interfaces: await interfaces(n.netns) });
  targets.push(...podTargets(state, scenario));
  return targets;
}

/** One capture target per pod that is not being deleted and has its network (a pod IP). */
function podTargets(state: LabState, scenario: Scenario): CaptureTarget[] {
  return state.pods
    .filter((p) => !p.deleting && p.object.status?.podIP)
    .map((p) => {
      const gateway = scenario.gateway !== null && selectorMatches(p, scenario.gateway);
      return { name: p.object.metadata!.name!, role: gateway ? 'gateway' : 'pod', netns: p.netns, node: p.object.spec?.nodeName ?? null, pod: p.object.metadata!.name!, namespace: p.object.metadata?.namespace ?? 'default', interfaces: ['eth0'] };
    });
}

/**
 * Pods born while traffic flows (a Deployment replacing a deleted pod): polls the lab state and
 * calls `onNew` once per new pod namespace, so the pcap capturer can start there; `seen()` keeps
 * every pod met, deleted ones too, so the eBPF points of a pod that lived only mid-run still get
 * its name at the end.
 */
function watchPods(lab: string, scenario: Scenario, initial: readonly CaptureTarget[], onNew: (t: CaptureTarget) => Promise<void>): { stop(): Promise<CaptureTarget[]> } {
  const known = new Map(initial.map((t) => [t.netns, t]));
  const born: CaptureTarget[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      // A read that races the controller's write is retried on the next tick.
      const state = await readState(lab).catch(() => null);
      for (const t of state ? podTargets(state, scenario) : []) {
        if (known.has(t.netns)) continue;
        known.set(t.netns, t);
        born.push(t);
        await onNew(t);
      }
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return born;
    },
  };
}

/** The lab's address ranges: client, NLB public, node (NLB private, MetalLB pool), pod and service networks. */
export const LAB_RANGES = [CLIENT_NETWORK, `${NLB_PUBLIC_PREFIX}0/24`, NODE_NETWORK, POD_NETWORK, SERVICE_NETWORK];
/**
 * Request head bytes the probe keeps past its 32 payload bytes where a gateway adds
 * X-Forwarded-For at the end of the head: the request line, a Host of an NLB DNS name (~80
 * bytes), Connection and the XFF line end before byte 200.
 */
export const GATEWAY_REQUEST_HEAD_BYTES = 256;

function addressBook(state: LabState): { owners: Record<string, AddressOwner>; lb: string[]; node: string[]; client: string[] } {
  const owners: Record<string, AddressOwner> = { [state.client.ip]: { role: 'client' } };
  const node: string[] = [];
  for (const n of state.nodes) {
    owners[n.ip] = { node: n.name, role: 'node' };
    owners[n.podGateway] = { node: n.name, role: 'node' };
    node.push(n.ip, n.podGateway);
  }
  for (const p of state.pods) {
    const ip = p.object.status?.podIP;
    if (ip) owners[ip] = { pod: p.object.metadata?.name ?? null, node: p.object.spec?.nodeName ?? null, role: 'pod' };
  }
  const lb: string[] = [];
  const ext = state.extensions[NLB_EXTENSION] as NlbExtension | undefined;
  for (const zones of Object.values(ext?.addresses ?? {})) {
    for (const a of Object.values(zones)) {
      owners[a.privateIp] = { role: 'lb' };
      owners[a.publicIp] = { role: 'lb' };
      lb.push(a.privateIp);
    }
  }
  for (const ip of Object.keys(state.metallb.leaders)) owners[ip] = { role: 'lb' };
  return { owners, lb, node, client: [state.client.ip] };
}

function healthCheckPorts(state: LabState): number[] {
  return state.objects.services.map((s) => s.spec?.healthCheckNodePort).filter((p): p is number => typeof p === 'number');
}

/** Run the HTTP client inside a namespace; resolves with one result per request. */
function startClient(netns: string, url: string, args: string[], onResult: (r: RequestResult) => void): Promise<RequestResult[]> {
  const child = spawn(process.execPath, [builtScript('cluster/traffic/http-client.js'), '--url', url, ...args], { netns, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false });
  return collectResults(child, netns, onResult);
}

/**
 * Poll the NLB's target health while traffic flows: the timeline for the HTML report, and whether
 * any target went `draining` (that state lasts only as long as the deregistration delay).
 */
function startHealthMonitor(lab: string, scenario: Scenario, t0: number): { stop(): Promise<{ draining: boolean; timeline: TargetHealthSample[] }> } {
  let running = true;
  let draining = false;
  const timeline: TargetHealthSample[] = [];
  const loop = (async () => {
    while (running) {
      const state = await readState(lab);
      const svc = state?.objects.services.find((s) => s.metadata?.name === scenario.traffic.service && (s.metadata?.namespace ?? 'default') === scenario.namespace);
      if (!state || !svc || !isNlbService(svc)) return;
      const th = await serviceTargetHealth(state, labDir(lab), scenario.namespace, scenario.traffic.service).catch(() => null);
      if (th) {
        timeline.push({ t: (Date.now() - t0) / 1000, health: th.aws });
        if (th.aws.TargetHealthDescriptions.some((t) => t.TargetHealth.State === 'draining')) draining = true;
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { draining, timeline };
    },
  };
}

export async function runCapture(opts: CaptureOptions): Promise<CaptureRun> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => undefined);
  if (opts.provider === 'kind') {
    const [{ runKindCapture }, { defaultKindEnv }] = await Promise.all([import('../kind/capture.js'), import('../kind/env.js')]);
    return runKindCapture(opts, defaultKindEnv(progress));
  }
  const scenario = loadScenario(opts.scenario);
  const requests = opts.requests ?? scenario.traffic.requests;
  if (!Number.isInteger(requests) || requests < 1) throw new NetlabError(`--requests must be a positive whole number`, { exitCode: 1 });
  const outDir = await makeRunDir(scenario.name, opts.outDir);

  await ensureLab(scenario, opts.lab, progress);
  const labSeconds = (Date.now() - started) / 1000;
  progress(`applying ${path.relative(process.cwd(), scenario.manifestsFile) || scenario.manifestsFile}`);
  const applied = await applyManifests(opts.lab, scenario.manifests, scenario.manifestsFile);
  const pending = await waitForPods(opts.lab, applied.deployments, 60_000);
  if (pending) throw new NetlabError(`pods of scenario ${scenario.name} not ready after 60 s: ${pending}`, { hint: `netlab get pods -A -o wide --name ${opts.lab}` });
  await waitForLoadBalancer(opts.lab, scenario, progress);

  try {
    let state = await requireState(opts.lab);
    const url = trafficUrl(state, scenario);
    const targets = await planTargets(state, scenario);
    const groundTruthNs = targets.filter((t) => t.role === 'node' || t.role === 'lb').map((t) => ({ netns: t.netns, name: t.name }));
    let capturer: Capturer = opts.capturer ?? 'tcpdump';
    if (capturer === 'cap' && !(await capAvailable())) {
      progress('the cap binding does not load here: capturing with tcpdump instead');
      capturer = 'tcpdump';
    }
    const source = opts.source ?? 'pcap';
    const ebpfDir = source === 'both' ? path.join(outDir, 'ebpf') : outDir;
    if (source === 'both') await mkdir(ebpfDir, { recursive: true });
    progress(`capturing at ${targets.length} namespaces with ${source === 'ebpf' ? 'one eBPF probe' : source === 'both' ? `${capturer} and one eBPF probe` : capturer}`);
    const truth = await startGroundTruth(groundTruthNs, outDir);
    const cap = source === 'ebpf' ? null : capturer === 'cap' ? await startCap(targets, outDir, DEFAULT_FILTER) : await startTcpdump(targets, outDir, DEFAULT_FILTER);
    const probe = source === 'pcap'
      ? null
      : await startEbpfCapturer(targets, ebpfDir, {
          learnNetnsPrefix: `${opts.lab}-`,
          addresses: LAB_RANGES,
          requestHeadBytes: scenario.gateway !== null ? GATEWAY_REQUEST_HEAD_BYTES : 0,
        });
    const addFailures: string[] = [];
    const pods = watchPods(opts.lab, scenario, targets, async (t) => {
      progress(`pod ${t.name} appeared: capturing there too`);
      // The probe traces it already (it learned the namespace when it was made).
      await cap?.add?.(t).catch((err: Error) => void addFailures.push(`${t.name}: ${err.message}`));
    });
    const monitor = startHealthMonitor(opts.lab, scenario, started);
    const trafficStarted = Date.now();

    const netns = fromNetns(state, scenario);
    const { short, long, eventErrors } = await driveScenarioTraffic({
      scenario,
      requests,
      startClient: (args, onResult) => startClient(netns, url, args, onResult),
      podsMatching: async (selector) =>
        (await requireState(opts.lab)).pods.filter((p) => !p.deleting && (p.object.metadata?.namespace ?? 'default') === scenario.namespace && selectorMatches(p, selector)).map((p) => p.object.metadata!.name!),
      deletePod: (name) => deletePodNow(opts.lab, scenario.namespace, name),
      progress,
    });
    const { draining: drainingSeen, timeline } = await monitor.stop();
    const gateHeld = scenario.expect.readinessGate
      ? await readinessGateHeld(
          async () => (await requireState(opts.lab)).pods.filter((p) => !p.deleting && (p.object.metadata?.namespace ?? 'default') === scenario.namespace).map((p) => p.object),
          trafficStarted - 1000,
          { timeoutMs: 30_000, intervalMs: 200, sameInstantCounts: false },
        )
      : null;
    const born = await pods.stop();
    progress('stopping captures');
    const pcapFiles: CapturedFile[] = cap ? await cap.stop() : [];
    const ebpfFiles: CapturedFile[] = probe ? await probe.stop([...born, ...podTargets(await requireState(opts.lab), scenario)]) : [];
    const files = source === 'ebpf' ? ebpfFiles : pcapFiles;
    const gt = await truth.stop();

    state = await requireState(opts.lab);
    let targetHealth: DescribeTargetHealthOutput | undefined;
    const svc = findService(state, scenario.namespace, scenario.traffic.service);
    if (isNlbService(svc)) targetHealth = (await serviceTargetHealth(state, labDir(opts.lab), scenario.namespace, scenario.traffic.service)).aws;

    const book = addressBook(state);
    const extras = { addresses: book.owners, healthCheckPorts: healthCheckPorts(state), clients: [sourceIp(state, scenario)] };
    await writeManifest(outDir, buildManifest(outDir, files, gt, extras));
    if (source === 'both') await writeManifest(ebpfDir, buildManifest(ebpfDir, ebpfFiles, gt, extras));
    await writeFile(path.join(outDir, 'requests.ndjson'), [...short, ...long].map((r) => JSON.stringify(r)).join('\n') + '\n');
    if (targetHealth) await writeFile(path.join(outDir, 'target-health.json'), `${JSON.stringify(targetHealth, null, 2)}\n`);
    await writeFile(path.join(outDir, 'lab-state.json'), `${JSON.stringify({ nodes: state.nodes, pods: state.pods.map((p) => p.object), services: state.objects.services, endpoints: state.endpoints }, null, 1)}\n`);

    progress('analyzing');
    const analysis = await analyze({ dir: outDir });
    const contract = toContractJson(analysis) as ContractReport;
    let ebpf: CaptureRun['ebpf'] = null;
    if (probe?.summary) {
      ebpf = {
        events: probe.summary.events,
        lost: probe.summary.lost,
        lateEvents: probe.summary.lateEvents,
        learnedNamespaces: probe.summary.learned.map((l) => l.netns),
        agreesWithPcap: null,
        differences: [],
      };
      if (source === 'both') {
        progress('analyzing the eBPF capture');
        const other = toContractJson(await analyze({ dir: ebpfDir })) as ContractReport;
        const cmp = compareSources(contract, other);
        ebpf.agreesWithPcap = cmp.agree;
        ebpf.differences = cmp.differences;
      }
    }
    return await concludeRun({
      scenario,
      outDir,
      command: `netlab capture --scenario ${scenario.name}`,
      requests,
      analysis,
      contract,
      short,
      long,
      targetHealth: targetHealth ?? null,
      addresses: { lb: book.lb, node: book.node, client: book.client },
      observed: { readinessGateHeld: gateHeld, drainingSeen: scenario.expect.draining ? drainingSeen : null },
      eventErrors,
      captureAddFailures: addFailures,
      provider: 'netns',
      files,
      ebpf,
      timeline,
      labSeconds,
      started,
    });
  } finally {
    if (!opts.keep) {
      progress(`removing scenario ${scenario.name} from lab ${opts.lab} (--keep leaves it)`);
      await deleteManifests(opts.lab, scenario.manifests, scenario.manifestsFile);
    }
  }
}
