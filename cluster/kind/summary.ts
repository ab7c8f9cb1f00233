/** The line `netlab up --provider kind` prints when the lab is ready (or was already). */
import type { KindLabState } from './state.js';
import { CLIENT_PUBLIC_IP } from './network.js';

export function kindUpSummary(state: KindLabState, started: number): string {
  if (Date.parse(state.createdAt) < started) return `kind lab ${state.name} is already up (created ${state.createdAt})`;
  const a = state.addresses;
  return [
    `kind lab ${state.name} is up: ${state.nodes.length} nodes (${state.nodes.join(', ')}) on ${state.network?.subnet ?? '?'} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    a ? `  MetalLB ${state.metallb?.version ?? ''} pool ${a.pool.start}-${a.pool.end}; NLB emulator ${a.emulatorIp} (zones ${Object.entries(a.zoneIps).map(([z, ip]) => `${z}=${ip}`).join(' ')}, load balancers ${a.nlbPool.start}-${a.nlbPool.end}); client ${CLIENT_PUBLIC_IP} (docker ${a.clientIp})` : '',
    `  kubectl --kubeconfig ${state.kubeconfig} get nodes -L topology.kubernetes.io/zone`,
  ].filter(Boolean).join('\n');
}

/** `netlab status` of a kind lab: what its record says (the cluster itself answers kubectl). */
export function kindStatusLines(state: KindLabState): string[] {
  const a = state.addresses;
  return [
    `kind lab ${state.name} (${state.phase}, created ${state.createdAt}): cluster ${state.cluster}, ${state.nodes.length} nodes: ${state.nodes.join(', ')}`,
    `  network ${state.network?.subnet ?? '?'}${a ? `; MetalLB pool ${a.pool.start}-${a.pool.end}; NLB addresses ${a.nlbPool.start}-${a.nlbPool.end}; client ${a.clientIp} (source ${CLIENT_PUBLIC_IP} towards the NLB)` : ''}`,
    `  containers: ${state.resources.containers.join(', ') || 'none'}; image ${state.image?.tag ?? 'not loaded'}`,
    `  kubectl --kubeconfig ${state.kubeconfig} get pods -A -o wide`,
  ];
}
