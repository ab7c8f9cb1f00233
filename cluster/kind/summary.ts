/** The line `netlab up --provider kind` prints when the lab is ready (or was already). */
import type { KindLabState } from './state.js';

export function kindUpSummary(state: KindLabState, started: number): string {
  if (Date.parse(state.createdAt) < started) return `kind lab ${state.name} is already up (created ${state.createdAt})`;
  const a = state.addresses;
  return [
    `kind lab ${state.name} is up: ${state.nodes.length} nodes (${state.nodes.join(', ')}) on ${state.network?.subnet ?? '?'} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    a ? `  MetalLB ${state.metallb?.version ?? ''} pool ${a.pool.start}-${a.pool.end}; NLB emulator ${Object.entries(a.zoneIps).map(([z, ip]) => `${z}=${ip}`).join(' ')}; client 198.51.100.10 (docker ${a.clientIp})` : '',
    `  kubectl --kubeconfig ${state.kubeconfig} get nodes -L topology.kubernetes.io/zone`,
  ].filter(Boolean).join('\n');
}
