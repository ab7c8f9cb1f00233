/** `netlab analyze --json`: exactly the CONTRACT.md shape, plus fields the contract allows adding. */
import type { AnalysisResult, FlowResult, HopResult } from '../hops/types.js';

function hopJson(h: HopResult) {
  return {
    point: h.point,
    src: h.src,
    dst: h.dst,
    ttl: h.ttl,
    translation: h.translation,
    by: h.by,
    ppv2: h.ppv2 ? { command: h.ppv2.command, version: h.ppv2.version, src: h.ppv2.src, dst: h.ppv2.dst } : null,
    at: h.at,
    xff: h.xff,
    tunnel: h.tunnel,
    n: h.n,
    connection: h.connection,
    packets: h.packets,
    retransmissions: h.retransmissions,
    duplicates: h.duplicates,
    superframes: h.superframes,
  };
}

function flowJson(f: FlowResult) {
  return {
    id: f.id,
    client: f.client,
    frontend: f.frontend,
    backend: f.backend,
    hops: f.hops.map(hopJson),
    verdict: f.verdict,
    replyHops: f.replyHops.map(hopJson),
    healthCheck: f.healthCheck,
    packets: f.packets,
    retransmissions: f.retransmissions,
    duplicates: f.duplicates,
  };
}

/** The CONTRACT.md object (call JSON.stringify on it). */
export function toContractJson(result: AnalysisResult) {
  return {
    points: result.points.map((p) => ({
      name: p.name, role: p.role, node: p.node, pod: p.pod, interface: p.interface,
      namespace: p.namespace, file: p.file, linktype: p.linktype, packets: p.packets,
    })),
    flows: result.flows.map(flowJson),
    summary: result.summary,
    groundTruth: result.groundTruth,
    warnings: result.warnings,
    stats: result.stats,
  };
}
