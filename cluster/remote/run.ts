/**
 * `netlab capture --kubeconfig K --service NS/NAME`: capture a Service's traffic on an existing
 * cluster. Resolve the Service, its endpoints, pods and nodes through the API; deploy a capture
 * DaemonSet in a namespace of its own on the nodes that matter; stream tcpdump from each node and
 * from inside each backend pod through the exec API for the duration; write the manifest from the
 * API; analyze as `netlab capture` does; delete what was deployed whatever happens.
 * Nothing here prints: progress goes through `onProgress`.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError, UsageError } from '../../analyzer/errors.js';
import { analyze, markBackground } from '../../analyzer/analyze.js';
import { summarize } from '../../analyzer/hops/infer.js';
import type { AnalysisResult } from '../../analyzer/hops/types.js';
import type { Manifest, ManifestPoint } from '../../analyzer/manifest/manifest.js';
import type { ContractReport } from '../../analyzer/report/contract.js';
import { toContractJson } from '../../analyzer/report/json.js';
import { renderMarkdown } from '../../analyzer/report/table.js';
import { parseTcpdumpStats } from '../capture/tcpdump.js';
import { makeRunDir, writeManifest } from '../capture/manifest.js';
import { KubeClient } from '../kube/client.js';
import { addrListCommand, nodeCaptureCommand, parseAddrList, pidFromLookup, pidLookupCommand, podCaptureCommand, podCgroupKeys } from './commands.js';
import { execCollect, execToFile, type ExecTarget, type StreamingExec } from './exec-stream.js';
import { inferredHops } from './inferred.js';
import { buildCaptureObjects, CAPTURE_CONTAINER, captureNamespaceName, DEFAULT_CAPTURE_IMAGE, RUN_LABEL } from './manifests.js';
import { defaultClients, planRemoteCapture, type RemotePlan, type ServiceSummary } from './plan.js';

export interface RemoteCaptureOptions {
  kubeconfig?: string;
  context?: string;
  /** `NAMESPACE/NAME`, or `NAME` in the context's namespace (as kubectl). */
  service: string;
  durationSec: number;
  outDir?: string;
  image?: string;
  /** Capture on exactly these nodes instead of the Service's endpoint nodes. */
  nodes?: string[];
  /** Addresses the studied traffic comes from; other flows (probes) become background. */
  clients?: string[];
  /** Leave the capture namespace and DaemonSet in place. */
  keep?: boolean;
  /** Aborting (Ctrl-C) ends the capture early; what arrived is still analyzed, and cleanup runs. */
  signal?: AbortSignal;
  /** How long capture pods may take to run (image pull on every node). */
  podsTimeoutMs?: number;
  /** Called with the capture namespace's name just before it is created. */
  onDeployed?: (namespace: string) => void;
  onProgress?: (message: string) => void;
}

export interface RemoteCapture {
  point: string;
  file: string;
  bytes: number;
  packets: number;
  dropped: number | null;
}

export interface RemoteCaptureRun {
  outDir: string;
  context: string;
  captureNamespace: string;
  kept: boolean;
  plan: RemotePlan;
  analysis: AnalysisResult;
  report: ContractReport & { service: string; context: string; outDir: string; serviceInfo: ServiceSummary; inferred: string[]; notes: string[] };
  captures: RemoteCapture[];
  /** Whether the capture was cut short by the abort signal. */
  interrupted: boolean;
  totalSeconds: number;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `NS/NAME` → both; `NAME` → namespace null (the context's). */
export function parseServiceRef(ref: string): { namespace: string | null; name: string } {
  const parts = ref.split('/');
  const [namespace, name] = parts.length === 1 ? [null, parts[0]!] : parts;
  if (parts.length > 2 || namespace === '' || !name || (namespace !== null && !NAME.test(namespace!)) || !NAME.test(name)) {
    throw new UsageError(`--service '${ref}' is not NAMESPACE/NAME`, 'e.g. --service default/echo');
  }
  return { namespace: namespace ?? null, name };
}

/** One capture point being streamed. */
interface Stream {
  point: ManifestPoint;
  exec: StreamingExec;
}

function interrupted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted ?? false;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NetlabError('interrupted', { hint: 'the capture namespace was removed (unless --keep)' });
}

/** Resolves when the signal fires, or never. */
function whenAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
}

/** Wait until a capture pod runs and is ready on every node; say what holds back the others. */
async function waitForCapturePods(client: KubeClient, ns: string, runId: string, nodes: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    const pods = await client.list('Pod', ns, { labelSelector: `${RUN_LABEL}=${runId}` });
    const byNode = new Map<string, string>();
    const why: string[] = [];
    for (const node of nodes) {
      const pod = pods.find((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
      const ready = pod?.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.ready);
      if (pod && ready) byNode.set(node, pod.metadata!.name!);
      else {
        const w = pod?.status?.containerStatuses?.[0]?.state?.waiting;
        why.push(`${node}: ${pod ? (w ? `${w.reason}${w.message ? ` (${w.message})` : ''}` : (pod.status?.phase ?? 'Pending')) : 'no pod yet'}`);
      }
    }
    if (why.length === 0) return byNode;
    if (Date.now() > deadline) {
      throw new NetlabError(`capture pods not running after ${timeoutMs / 1000} s: ${why.join('; ')}`, { hint: 'is the capture image pullable on those nodes? pass --capture-image with one they can pull (docs/remote.md)' });
    }
    await sleep(500);
  }
}

/** A short command that must succeed: its stdout. */
async function execOk(client: KubeClient, at: ExecTarget, argv: string[]): Promise<string> {
  const r = await execCollect(client.config, at, argv);
  if (r.exitCode !== 0) {
    throw new NetlabError(`'${argv.join(' ')}' failed in capture pod ${at.namespace}/${at.pod}: ${r.stderr.trim() || r.message || 'the stream was cut'}`, { hint: 'the capture image needs iproute2 (ip -j), nsenter, find, grep, timeout and tcpdump (docs/remote.md)' });
  }
  return r.stdout;
}

/** The pid of one of the pod's processes, seen from the capture pod on its node (hostPID). */
async function podPid(client: KubeClient, at: ExecTarget, pod: RemotePlan['pods'][number]): Promise<number | null> {
  const keys = podCgroupKeys(pod);
  if (keys.length === 0) return null;
  const r = await execCollect(client.config, at, pidLookupCommand(keys));
  return pidFromLookup(r.stdout);
}

export async function runRemoteCapture(opts: RemoteCaptureOptions): Promise<RemoteCaptureRun> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => undefined);
  if (!Number.isFinite(opts.durationSec) || opts.durationSec <= 0) throw new UsageError(`--duration must be positive`, 'e.g. --duration 30s');
  const parsed = parseServiceRef(opts.service);
  const client = KubeClient.fromOptions({ kubeconfig: opts.kubeconfig, context: opts.context });
  const ref = { name: parsed.name, namespace: parsed.namespace ?? client.defaultNamespace };
  const context = client.config.getCurrentContext();
  const svc = await client.get('Service', ref.name, ref.namespace);
  if (!svc) {
    throw new NetlabError(`Service ${ref.namespace}/${ref.name} not found`, { where: `context ${context} (${client.server})`, hint: `kubectl --context ${context} -n ${ref.namespace} get services` });
  }
  const [endpointSlices, pods, nodes] = await Promise.all([
    client.list('EndpointSlice', ref.namespace, { labelSelector: `kubernetes.io/service-name=${ref.name}` }),
    client.list('Pod', ref.namespace),
    client.list('Node'),
  ]);
  const plan = planRemoteCapture({ service: svc, endpointSlices, pods, nodes, onlyNodes: opts.nodes });
  for (const n of plan.notes) progress(n);

  const runId = randomBytes(3).toString('hex');
  const outDir = await makeRunDir(`${ref.namespace}-${ref.name}`, opts.outDir);
  await writeFile(path.join(outDir, 'cluster.json'), `${JSON.stringify({ context, server: client.server, service: svc, endpointSlices, pods, nodes }, null, 1)}\n`);

  const objects = buildCaptureObjects({ runId, image: opts.image ?? DEFAULT_CAPTURE_IMAGE, nodes: plan.nodes.map((n) => n.name) });
  const capNs = captureNamespaceName(runId);
  let created = false;
  const streams: Stream[] = [];
  try {
    throwIfAborted(opts.signal);
    progress(`creating namespace ${capNs} with DaemonSet ${objects.daemonSet.metadata!.name} on ${plan.nodes.map((n) => n.name).join(', ')}`);
    created = true;
    opts.onDeployed?.(capNs);
    await client.create('Namespace', objects.namespace);
    await client.create('DaemonSet', objects.daemonSet);
    const capturePods = await waitForCapturePods(client, capNs, runId, plan.nodes.map((n) => n.name), opts.podsTimeoutMs ?? 120_000, opts.signal);
    const at = (node: string): ExecTarget => ({ namespace: capNs, pod: capturePods.get(node)!, container: CAPTURE_CONTAINER });

    // Interface names are resolved now, in each capture's own namespace (SLL2 keeps only indexes).
    const targets: Array<{ point: ManifestPoint; at: ExecTarget; argv: string[] }> = [];
    for (const n of plan.nodes) {
      const host = parseAddrList(await execOk(client, at(n.name), addrListCommand(null)));
      // The node's own view adds what Node.status lacks, e.g. its pod-network gateway (kube-proxy's SNAT source toward local pods).
      for (const ip of host.addresses) if (plan.addresses[ip]?.role !== 'pod') plan.addresses[ip] = { node: n.name, role: 'node' };
      targets.push({
        point: { name: n.name, file: `${n.name}.pcap`, role: 'node', node: n.name, pod: null, namespace: n.name, interface: 'any', linktype: 276, ifindex: host.ifindex },
        at: at(n.name),
        argv: nodeCaptureCommand(plan.filter, opts.durationSec),
      });
    }
    for (const p of plan.pods) {
      const pid = await podPid(client, at(p.node), p);
      if (pid === null) {
        progress(`pod ${p.name}: no process found on ${p.node} by its container IDs: not captured`);
        plan.notes.push(`pod ${p.name}: no process found on ${p.node} by its container IDs or UID: not captured`);
        continue;
      }
      const host = parseAddrList(await execOk(client, at(p.node), addrListCommand(pid)));
      targets.push({
        point: { name: p.name, file: `pod-${p.name}.pcap`, role: 'pod', node: p.node, pod: p.name, namespace: `${p.namespace}/${p.name}`, interface: 'any', linktype: 276, ifindex: host.ifindex },
        at: at(p.node),
        argv: podCaptureCommand(pid, plan.filter, opts.durationSec),
      });
    }
    throwIfAborted(opts.signal);
    for (const t of targets) streams.push({ point: t.point, exec: execToFile(client.config, t.at, t.argv, path.join(outDir, t.point.file), /listening on/) });
    await Promise.all(streams.map((s) => s.exec.ready));
    progress(`capturing for ${opts.durationSec} s at ${plan.nodes.length} node${plan.nodes.length === 1 ? '' : 's'} and ${streams.length - plan.nodes.length} pod${streams.length - plan.nodes.length === 1 ? '' : 's'} (filter: ${plan.filter}); Ctrl-C stops early`);

    // tcpdump ends itself (timeout -s INT); a stream still open well after that was cut somewhere.
    const all = Promise.all(streams.map((s) => s.exec.done));
    let lateTimer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (lateTimer = setTimeout(() => resolve('late'), opts.durationSec * 1000 + 20_000)));
    const first = await Promise.race([all.then(() => 'done' as const), whenAborted(opts.signal).then(() => 'aborted' as const), late]);
    clearTimeout(lateTimer);
    if (first !== 'done') {
      progress(first === 'aborted' ? 'interrupted: stopping the capture streams' : 'capture streams did not end after the duration: closing them');
      for (const s of streams) s.exec.close();
    }
    const outcomes = await all;
    // tcpdump's own report (packets, kernel drops) exists only when it ended; a cut stream has none.
    const stats = outcomes.map((o) => parseTcpdumpStats(o.stderr));
    const usable = streams.filter((_, i) => outcomes[i]!.bytes > 0).map((s) => s.point);
    if (usable.length === 0) throw new NetlabError('no capture stream delivered any bytes', { hint: `see the capture pods' output: kubectl -n ${capNs} logs -l ${RUN_LABEL}=${runId} (with --keep)` });

    const manifest: Manifest = {
      version: 1,
      points: usable,
      addresses: plan.addresses,
      healthCheckPorts: plan.healthCheckPorts,
      ...(opts.clients?.length ? { clients: opts.clients } : {}),
    };
    await writeManifest(outDir, manifest);
    progress('analyzing');
    const analysis = await analyze({ dir: outDir });
    if (!opts.clients?.length) {
      const clients = defaultClients(analysis, plan.addresses);
      if (clients) {
        plan.notes.push(`connections started by node addresses (kubelet probes, node-local checks) are background; the clients are ${clients.join(', ') || 'none'} (choose them with --client)`);
        await writeManifest(outDir, { ...manifest, clients });
        // The same flows with more of them background: no second decode of the captures.
        markBackground(analysis.flows, { clients });
        analysis.summary = summarize(analysis.flows);
      }
    }
    const contract = toContractJson(analysis) as ContractReport;
    const decoded = (file: string) => analysis.points.filter((p) => path.basename(p.file) === file).reduce((a, p) => a + p.packets, 0);
    const captures: RemoteCapture[] = streams.map((s, i) => ({
      point: s.point.name,
      file: s.point.file,
      bytes: outcomes[i]!.bytes,
      packets: Number.isNaN(stats[i]!.captured) ? decoded(s.point.file) : stats[i]!.captured,
      dropped: Number.isNaN(stats[i]!.dropped) ? null : stats[i]!.dropped,
    }));
    const inferred = inferredHops(plan.service, plan.addresses, contract);
    const serviceRef = `${ref.namespace}/${ref.name}`;
    const report = { ...contract, service: serviceRef, context, outDir, serviceInfo: plan.service, inferred, notes: plan.notes };
    await writeFile(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(outDir, 'report.md'), `# netlab capture --service ${serviceRef} (context ${context})\n\n${renderMarkdown(analysis)}\n\n## Inferred hops (not captured)\n\n${inferred.map((l) => `- ${l}`).join('\n')}\n${plan.notes.length ? `\n## Notes\n\n${plan.notes.map((l) => `- ${l}`).join('\n')}\n` : ''}`);
    return { outDir, context, captureNamespace: capNs, kept: !!opts.keep, plan, analysis, report, captures, interrupted: interrupted(opts.signal), totalSeconds: (Date.now() - started) / 1000 };
  } finally {
    for (const s of streams) s.exec.close();
    if (created && !opts.keep) {
      progress(`deleting namespace ${capNs} (--keep leaves it)`);
      // A failed cleanup is reported, never thrown over the run's own result or error.
      const gone = await deleteCaptureNamespace(client, capNs).catch((err: unknown) => `failed (${err instanceof Error ? err.message : String(err)})`);
      progress(gone === 'gone' ? `namespace ${capNs} deleted` : `namespace ${capNs}: ${gone}; if it stays, run kubectl delete namespace ${capNs}`);
    } else if (created) {
      progress(`kept namespace ${capNs}: kubectl delete namespace ${capNs} removes it`);
    }
  }
}

/** Delete the capture namespace and wait (briefly) until the API no longer has it. */
export async function deleteCaptureNamespace(client: KubeClient, ns: string, waitMs = 30_000): Promise<'gone' | 'terminating'> {
  await client.delete('Namespace', ns);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (!(await client.get('Namespace', ns))) return 'gone';
    await sleep(250);
  }
  return 'terminating';
}
