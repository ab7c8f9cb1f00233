/**
 * `netlab capture --provider kind --scenario NAME`: the same run as on the netns lab
 * (cluster/capture/run.ts) on a kind cluster — apply the scenario through the API, wait for its
 * pods and load balancer, capture at the client, the NLB emulator, the worker nodes and every pod
 * (helper containers, cluster/kind/capture-plan.ts), send the requests from the client container,
 * then the same manifest, analysis and lesson checks. Not captured on kind: conntrack events and
 * iptables-save ground truth (the netns lab records them; here the NAT steps are inferred from the
 * packets alone).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { analyze } from '../../analyzer/analyze.js';
import type { AddressOwner } from '../../analyzer/hops/infer.js';
import type { ContractReport, DescribeTargetHealth, TargetHealthSample } from '../../analyzer/report/contract.js';
import { toContractJson } from '../../analyzer/report/json.js';
import { concludeRun } from '../capture/conclude.js';
import { driveScenarioTraffic } from '../capture/drive.js';
import { readinessGateHeld } from '../capture/lesson.js';
import { buildManifest, makeRunDir, writeManifest } from '../capture/manifest.js';
import { DEFAULT_FILTER, type CaptureTarget } from '../capture/points.js';
import type { CaptureOptions, CaptureRun } from '../capture/run.js';
import { run, spawn } from '../exec/exec.js';
import type { KubeClient } from '../kube/client.js';
import type { ServiceReport } from '../nlb/api/plan.js';
import { readServiceReport } from '../nlb/api/report.js';
import type { Pod, Service } from '../lab/state.js';
import { isNlbService } from '../model/services.js';
import { loadScenario, type Scenario } from '../scenarios/catalog.js';
import type { RequestResult } from '../traffic/http-client.js';
import { collectResults } from '../traffic/results.js';
import { applyScenario, deleteScenario, waitForScenarioPods } from './apply.js';
import { crictlPidArgs, kindCapturePlan, type KindCaptureSubject } from './capture-plan.js';
import { startKindCapture } from './capturer.js';
import { clientName, emulatorName } from './containers.js';
import type { KindEnv } from './env.js';
import { CLIENT_PUBLIC_IP } from './network.js';
import { checkKindState } from './provision.js';
import { KindProvider } from './provider.js';
import { readKindState, type KindLabState } from './state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The emulator's describe-target-health for a Service: every target group's targets. */
export function targetHealthOf(report: ServiceReport | null): DescribeTargetHealth | null {
  return report ? { TargetHealthDescriptions: report.targetGroups.flatMap((tg) => tg.TargetHealthDescriptions) } : null;
}

async function ensureKindLab(scenario: Scenario, lab: string, env: KindEnv, progress: (m: string) => void): Promise<KindLabState> {
  const existing = await readKindState(lab);
  const workers = scenario.lab.nodes - 1;
  if (existing?.phase === 'ready') {
    if (existing.options.workers < workers) {
      throw new NetlabError(`kind lab '${lab}' has ${existing.options.workers} workers; scenario ${scenario.name} needs ${workers}`, { hint: `netlab down --provider kind --name ${lab} and let netlab capture create it` });
    }
    progress(`reusing kind lab ${lab} (${existing.nodes.length} nodes)`);
    return existing;
  }
  progress(`creating kind lab ${lab}: ${scenario.lab.nodes} nodes (this takes minutes)`);
  const state = await new KindProvider(env).up({ name: lab, nodes: scenario.lab.nodes, zones: ['a', 'b'], timeScale: scenario.lab.timeScale });
  if (!state) throw new NetlabError(`kind lab '${lab}' did not come up`);
  return state;
}

function nodeIp(node: { status?: { addresses?: Array<{ type: string; address: string }> } }): string | null {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? null;
}

/** Run the traffic client inside the client container; one JSON line per request. */
function startClient(env: KindEnv, state: KindLabState, url: string, args: string[], onResult: (r: RequestResult) => void): Promise<RequestResult[]> {
  const script = `${state.image!.root}/dist/cluster/traffic/http-client.js`;
  const child = spawn('docker', env.docker.argv(['exec', clientName(state.name), 'node', script, '--url', url, ...args]), { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false });
  return collectResults(child, clientName(state.name), onResult);
}

/** The NLB's DNS name resolves, inside the client container, to the zones with healthy targets (as AWS DNS answers). */
const HOSTS_UPDATE = "const fs=require('fs');const [h,...ips]=process.argv.slice(1);const keep=fs.readFileSync('/etc/hosts','utf8').split('\\n').filter((l)=>l&&!l.trim().endsWith(' '+h));fs.writeFileSync('/etc/hosts',[...keep,...ips.map((ip)=>ip+' '+h)].join('\\n')+'\\n')";

/** argv (in the client container) that makes `name` resolve to `ips` through its /etc/hosts, replacing earlier lines for it. */
export function resolveInClientArgv(name: string, ips: readonly string[]): string[] {
  return ['node', '-e', HOSTS_UPDATE, name, ...ips];
}

async function waitForNlb(kube: KubeClient, scenario: Scenario, progress: (m: string) => void, timeoutMs = 180_000): Promise<ServiceReport> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const report = await readServiceReport(kube, scenario.namespace, scenario.traffic.service).catch(() => null);
    const states = targetHealthOf(report)?.TargetHealthDescriptions.map((t) => t.TargetHealth.State) ?? [];
    const msg = report ? `waiting for healthy targets: ${states.join(', ') || 'none registered'}` : 'waiting for the NLB emulator to plan the Service';
    if (msg !== last) progress((last = msg));
    if (report?.dnsName && states.includes('healthy') && !states.includes('initial')) return report;
    if (Date.now() > deadline) throw new NetlabError(`the NLB of ${scenario.namespace}/${scenario.traffic.service} was not ready within ${timeoutMs / 1000} s: ${last}`, { hint: 'docker logs <lab>-nlb shows the emulator' });
    await sleep(500);
  }
}

async function trafficUrl(kube: KubeClient, env: KindEnv, state: KindLabState, scenario: Scenario, svc: Service, progress: (m: string) => void): Promise<{ url: string; clientIp: string; nlb: ServiceReport | null }> {
  const port = svc.spec?.ports?.[0];
  if (!port) throw new NetlabError(`Service ${scenario.traffic.service} has no ports`, { where: scenario.manifestsFile });
  if (scenario.traffic.from !== 'client') {
    throw new NetlabError(`scenario ${scenario.name} sends from pods (${scenario.traffic.from}); the kind provider sends only from its client container so far`, { hint: 'run it on the netns lab (the default provider)' });
  }
  switch (scenario.traffic.via) {
    case 'loadBalancer': {
      if (isNlbService(svc)) {
        const nlb = await waitForNlb(kube, scenario, progress);
        await env.docker.exec(clientName(state.name), resolveInClientArgv(nlb.dnsName!, nlb.dnsAddresses));
        return { url: `http://${nlb.dnsName}:${port.port}/`, clientIp: CLIENT_PUBLIC_IP, nlb };
      }
      const ip = await kube.waitFor('Service', (svcs) => svcs.find((s) => s.metadata?.name === scenario.traffic.service)?.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip, {
        timeoutMs: 120_000,
        what: `a MetalLB address for ${scenario.namespace}/${scenario.traffic.service}`,
        namespace: scenario.namespace,
      });
      return { url: `http://${ip}:${port.port}/`, clientIp: state.addresses!.clientIp, nlb: null };
    }
    case 'nodePort': {
      const nodes = await kube.list('Node');
      const node = nodes.find((n) => n.metadata?.name === (scenario.traffic.node ? `${state.cluster}-${scenario.traffic.node}` : state.nodes[1]));
      const ip = node && nodeIp(node);
      if (!ip) throw new NetlabError(`no node ${scenario.traffic.node ?? state.nodes[1]} with an InternalIP in kind lab ${state.name}`, { where: path.join(scenario.dir, 'scenario.yaml') });
      return { url: `http://${ip}:${port.nodePort}/`, clientIp: state.addresses!.clientIp, nlb: null };
    }
    case 'clusterIP':
      throw new NetlabError(`scenario ${scenario.name} reaches a ClusterIP, which the kind client container (outside the cluster) cannot`, { hint: 'run it on the netns lab (the default provider)' });
  }
}

async function captureSubjects(env: KindEnv, state: KindLabState, pods: readonly Pod[], withNlb: boolean, gateway: string | null): Promise<KindCaptureSubject[]> {
  const subject = (name: string, role: CaptureTarget['role'], container: string, node: string | null): KindCaptureSubject => ({
    target: { name, role, netns: `container:${container}`, node, pod: null, namespace: null, interfaces: ['eth0'] },
    container,
  });
  const out = [subject('client', 'client', clientName(state.name), null)];
  if (withNlb) out.push(subject('nlb', 'lb', emulatorName(state.name), null));
  for (const n of state.nodes.slice(1)) out.push(subject(n, 'node', n, n));
  for (const p of pods) {
    const node = p.spec?.nodeName;
    const id = p.status?.containerStatuses?.[0]?.containerID;
    if (!node || !id) continue;
    const r = await run('docker', env.docker.argv(crictlPidArgs(node, id)), { timeoutMs: 30_000 });
    const pid = Number(r.stdout.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new NetlabError(`crictl in ${node} gave no pid for pod ${p.metadata?.name} (${r.stdout.trim() || 'empty'})`);
    const labels = p.metadata?.labels ?? {};
    const isGateway = gateway !== null && gateway.split(',').every((kv) => labels[kv.split('=')[0]!.trim()] === kv.split('=')[1]?.trim());
    out.push({
      target: { name: p.metadata!.name!, role: isGateway ? 'gateway' : 'pod', netns: `container:${node}/pid:${pid}`, node, pod: p.metadata!.name!, namespace: p.metadata?.namespace ?? 'default', interfaces: ['eth0'] },
      container: node,
      pod: { node, pid },
    });
  }
  return out;
}

export async function runKindCapture(opts: CaptureOptions, env: KindEnv): Promise<CaptureRun> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => undefined);
  const scenario = loadScenario(opts.scenario);
  const requests = opts.requests ?? scenario.traffic.requests;
  if (!Number.isInteger(requests) || requests < 1) throw new NetlabError(`--requests must be a positive whole number`, { exitCode: 1 });
  if (opts.source && opts.source !== 'pcap') throw new NetlabError(`--source ${opts.source} is not available with --provider kind`, { exitCode: 1, hint: 'the kind provider captures with tcpdump (pcap) only' });
  const outDir = await makeRunDir(`${scenario.name}-kind`, opts.outDir);

  const state = await ensureKindLab(scenario, opts.lab, env, progress);
  checkKindState(state);
  const labSeconds = (Date.now() - started) / 1000;
  const kube = env.kube(state.kubeconfig);
  progress(`applying ${path.relative(process.cwd(), scenario.manifestsFile) || scenario.manifestsFile} through the API (images → ${state.image.tag})`);
  const applied = await applyScenario(kube, scenario, state, state.image, progress);
  try {
    await waitForScenarioPods(kube, applied, 180_000);
    const svc = applied.services.find((s) => s.metadata?.name === scenario.traffic.service);
    if (!svc) throw new NetlabError(`scenario traffic targets Service ${scenario.namespace}/${scenario.traffic.service}, which its manifests do not define`, { hint: 'check traffic.service in scenario.yaml' });
    const { url, clientIp, nlb } = await trafficUrl(kube, env, state, scenario, svc, progress);

    const pods = (await kube.list('Pod', scenario.namespace)).filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
    const subjects = await captureSubjects(env, state, pods, nlb !== null, scenario.gateway);
    const plan = kindCapturePlan(state.name, randomBytes(3).toString('hex'), state.image.tag, subjects, DEFAULT_FILTER);
    progress(`capturing at ${plan.length} points with tcpdump in helper containers`);
    const cap = await startKindCapture(env.docker, plan, outDir);

    const timeline: TargetHealthSample[] = [];
    let drainingSeen = false;
    let monitoring = nlb !== null;
    const monitor = (async () => {
      while (monitoring) {
        const th = targetHealthOf(await readServiceReport(kube, scenario.namespace, scenario.traffic.service).catch(() => null));
        if (th) {
          timeline.push({ t: (Date.now() - started) / 1000, health: th });
          if (th.TargetHealthDescriptions.some((t) => t.TargetHealth.State === 'draining')) drainingSeen = true;
        }
        await sleep(500);
      }
    })();

    const trafficStarted = Date.now();
    const { short, long, eventErrors } = await driveScenarioTraffic({
      scenario,
      requests,
      startClient: (args, onResult) => startClient(env, state, url, args, onResult),
      podsMatching: async (selector) => (await kube.list('Pod', scenario.namespace, { labelSelector: selector })).filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!),
      deletePod: (name) => kube.delete('Pod', name, scenario.namespace, { gracePeriodSeconds: 0 }),
      progress,
    });
    monitoring = false;
    await monitor;
    // A real API server's condition times have one-second resolution.
    const gateHeld = scenario.expect.readinessGate
      ? await readinessGateHeld(async () => (await kube.list('Pod', scenario.namespace)).filter((p) => !p.metadata?.deletionTimestamp), trafficStarted - 1000, { timeoutMs: 60_000, intervalMs: 500, sameInstantCounts: true })
      : null;
    progress('stopping captures');
    const files = await cap.stop();

    const finalNlb = nlb ? await readServiceReport(kube, scenario.namespace, scenario.traffic.service) : null;
    const targetHealth = targetHealthOf(finalNlb);
    const nodes = await kube.list('Node');
    const allPods = await kube.list('Pod', scenario.namespace);
    const owners: Record<string, AddressOwner> = { [clientIp]: { role: 'client' } };
    const lbIps: string[] = [];
    const nodeIps: string[] = [];
    for (const n of nodes) {
      const ip = nodeIp(n);
      if (ip) {
        owners[ip] = { node: n.metadata?.name ?? null, role: 'node' };
        nodeIps.push(ip);
      }
    }
    for (const p of allPods) if (p.status?.podIP) owners[p.status.podIP] = { pod: p.metadata?.name ?? null, node: p.spec?.nodeName ?? null, role: 'pod' };
    for (const ip of [...Object.values(finalNlb?.addresses ?? {}), ...Object.values(state.addresses.zoneIps), state.addresses.emulatorIp]) {
      owners[ip] = { role: 'lb' };
      lbIps.push(ip);
    }
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip && !isNlbService(svc)) owners[ing.ip] = { role: 'lb' };
    const services = await kube.list('Service', scenario.namespace);
    const extras = { addresses: owners, healthCheckPorts: services.map((s) => s.spec?.healthCheckNodePort).filter((p): p is number => typeof p === 'number'), clients: [clientIp] };
    await writeManifest(outDir, buildManifest(outDir, files, [], extras));
    await writeFile(path.join(outDir, 'requests.ndjson'), [...short, ...long].map((r) => JSON.stringify(r)).join('\n') + '\n');
    if (targetHealth) await writeFile(path.join(outDir, 'target-health.json'), `${JSON.stringify(targetHealth, null, 2)}\n`);
    await writeFile(path.join(outDir, 'lab-state.json'), `${JSON.stringify({ provider: 'kind', lab: state.name, nodes, pods: allPods, services }, null, 1)}\n`);

    progress('analyzing');
    const analysis = await analyze({ dir: outDir });
    const contract = toContractJson(analysis) as ContractReport;
    return await concludeRun({
      scenario,
      outDir,
      command: `netlab capture --provider kind --scenario ${scenario.name}`,
      requests,
      analysis,
      contract,
      short,
      long,
      targetHealth,
      addresses: { lb: lbIps, node: nodeIps, client: [clientIp] },
      observed: { readinessGateHeld: gateHeld, drainingSeen: scenario.expect.draining ? drainingSeen : null },
      eventErrors,
      captureAddFailures: [],
      provider: 'kind',
      files,
      ebpf: null,
      timeline,
      labSeconds,
      started,
    });
  } finally {
    if (!opts.keep) {
      progress(`removing scenario ${scenario.name} from kind lab ${opts.lab} (--keep leaves it)`);
      await deleteScenario(kube, applied);
    }
  }
}
