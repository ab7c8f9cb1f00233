/**
 * `netlab up --provider kind`, step by step. Each step records what it is about to make in the
 * state file first; any failure tears down everything made so far (cluster/kind/delete.ts) and
 * rethrows the step's error, which names the command and what it printed.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { formatCommand, run } from '../exec/exec.js';
import { kindConfig, validateKindOptions, NODE_IMAGE } from './config.js';
import { clientPlan, clientRoutingPlan, emulatorPlan, KIND_NETWORK } from './containers.js';
import type { KindEnv } from './env.js';
import type { KubeObject } from '../kube/kinds.js';
import { allReady, applyWithRetry } from './kube.js';
import { fetchPinnedManifest, METALLB_NAMESPACE, metallbObjects } from './metallb.js';
import { CLIENT_PUBLIC_NET, kindAddressPlan, pickIpv4Subnet } from './network.js';
import { kindLabDir, writeKindState, type KindLabState } from './state.js';

export interface KindUpOptions {
  name: string;
  workers: number;
  zones: string[];
  /** Divides the NLB emulator's health-check and drain timers. */
  timeScale: number;
  dryRun?: (line: string) => void;
}

/** kind names its node containers `<cluster>-control-plane`, `<cluster>-worker`, `<cluster>-worker2`, … */
export function nodeContainers(cluster: string, workers: number): string[] {
  return [`${cluster}-control-plane`, ...Array.from({ length: workers }, (_, i) => `${cluster}-worker${i === 0 ? '' : i + 1}`)];
}

export function createClusterArgs(state: Pick<KindLabState, 'cluster' | 'kubeconfig'>, configFile: string): string[] {
  return ['create', 'cluster', '--name', state.cluster, '--config', configFile, '--kubeconfig', state.kubeconfig, '--wait', '0s'];
}

export function newKindState(opts: KindUpOptions): KindLabState {
  const dir = kindLabDir(opts.name);
  return {
    version: 1,
    provider: 'kind',
    name: opts.name,
    cluster: opts.name,
    phase: 'creating',
    createdAt: new Date().toISOString(),
    options: { workers: opts.workers, zones: opts.zones, timeScale: opts.timeScale },
    nodeImage: NODE_IMAGE,
    kubeconfig: path.join(dir, 'kubeconfig'),
    internalKubeconfig: path.join(dir, 'kubeconfig.internal'),
    network: null,
    addresses: null,
    metallb: null,
    image: null,
    nodes: nodeContainers(opts.name, opts.workers),
    resources: { cluster: false, containers: [] },
  };
}

/** Print what `up` would do, changing nothing. */
export function dryRun(opts: KindUpOptions, env: KindEnv, print: (line: string) => void): void {
  const state = newKindState(opts);
  const configFile = path.join(kindLabDir(opts.name), 'kind-config.yaml');
  print(`# write ${configFile}`);
  for (const line of kindConfig({ name: state.cluster, workers: opts.workers, zones: opts.zones }).trimEnd().split('\n')) print(`  ${line}`);
  print(formatCommand(env.kind, createClusterArgs(state, configFile)));
  print(formatCommand('docker', ['network', 'inspect', KIND_NETWORK]));
  print(`# wait for ${state.nodes.length} nodes Ready (${state.nodes.join(', ')})`);
  print(formatCommand(env.kind, ['get', 'kubeconfig', '--internal', '--name', state.cluster]) + ` > ${state.internalKubeconfig}`);
  print(`# apply MetalLB ${env.metallb.version} from ${env.metallb.url} (sha256 ${env.metallb.sha256}), wait for its pods, then an IPAddressPool at the top of the kind subnet and an L2Advertisement`);
  print(`# build netlab's image in the local Docker engine, then: ${formatCommand(env.kind, ['load', 'docker-image', '<image>', '--name', state.cluster])}`);
  print(`# docker run ${opts.name}-nlb (NLB emulator) and ${opts.name}-client on the kind network; routes for ${CLIENT_PUBLIC_NET}`);
}

async function kindRun(env: KindEnv, args: string[], timeoutMs = 600_000): Promise<string> {
  env.log(formatCommand(env.kind, args));
  return (await run(env.kind, args, { timeoutMs })).stdout;
}

export async function provision(opts: KindUpOptions, env: KindEnv): Promise<KindLabState> {
  validateKindOptions({ name: opts.name, workers: opts.workers, zones: opts.zones });
  const state = newKindState(opts);
  const configFile = path.join(kindLabDir(opts.name), 'kind-config.yaml');
  // Recorded before it exists: a crash inside `kind create` must still lead `down` to it.
  state.resources.cluster = true;
  await writeKindState(state);
  await writeFile(configFile, kindConfig({ name: state.cluster, workers: opts.workers, zones: opts.zones }));
  await kindRun(env, createClusterArgs(state, configFile));

  const network = await env.docker.networkInspect(KIND_NETWORK);
  const subnet = pickIpv4Subnet(network.subnets, KIND_NETWORK);
  state.network = { name: KIND_NETWORK, subnet: subnet.cidr, ipv6Subnets: network.subnets.filter((s) => s.family === 6).map((s) => s.subnet) };
  state.addresses = kindAddressPlan(subnet, opts.zones);
  await writeKindState(state);
  env.log(`kind network ${subnet.cidr}: MetalLB pool ${state.addresses.pool.start}-${state.addresses.pool.end}, NLB addresses ${state.addresses.nlbPool.start}-${state.addresses.nlbPool.end}, client ${state.addresses.clientIp}`);

  await writeFile(state.internalKubeconfig, await kindRun(env, ['get', 'kubeconfig', '--internal', '--name', state.cluster]));
  const kube = env.kube(state.kubeconfig);
  env.log(`waiting for ${state.nodes.length} nodes Ready`);
  await kube.waitFor('Node', (nodes) => allReady(nodes, state.nodes.length), { timeoutMs: env.timeouts.nodesMs, what: `${state.nodes.length} kind nodes Ready` });

  env.log(`applying MetalLB ${env.metallb.version}`);
  const manifest = await fetchPinnedManifest(env.metallb, env.cacheDir, env.download);
  await kube.applyDocuments(manifest, env.metallb.url);
  await kube.waitFor('Pod', (pods) => allReady(pods, 1), { timeoutMs: env.timeouts.podsMs, what: `MetalLB's pods in ${METALLB_NAMESPACE} Ready`, namespace: METALLB_NAMESPACE });
  for (const obj of metallbObjects(subnet, opts.zones)) await applyWithRetry(kube, obj as KubeObject, env.timeouts.podsMs);
  state.metallb = { version: env.metallb.version, pool: state.addresses.pool };
  await writeKindState(state);

  const image = await env.buildImage(env.docker, env.log);
  await kindRun(env, ['load', 'docker-image', image.tag, '--name', state.cluster]);
  state.image = image;

  const containers = [emulatorPlan(opts.name, image, state.addresses, state.internalKubeconfig, opts.timeScale), clientPlan(opts.name, image, state.addresses)];
  state.resources.containers = containers.map((c) => c.name);
  await writeKindState(state);
  for (const plan of containers) {
    // A container left by an earlier run of the same lab would hold the name and the address.
    await env.docker.remove(plan.name);
    env.log(`docker run ${plan.name} (${plan.ipv4})`);
    await env.docker.run(plan);
  }
  for (const c of clientRoutingPlan(opts.name, state.nodes.slice(1), state.addresses)) await env.docker.exec(c.container, c.argv);

  state.phase = 'ready';
  await writeKindState(state);
  return state;
}

export function checkKindState(state: KindLabState): asserts state is KindLabState & { addresses: NonNullable<KindLabState['addresses']>; image: NonNullable<KindLabState['image']> } {
  if (state.phase !== 'ready' || !state.addresses || !state.image) {
    throw new NetlabError(`kind lab '${state.name}' is ${state.phase}`, { hint: `run netlab down --provider kind --name ${state.name}, then netlab up --provider kind --name ${state.name}` });
  }
}
