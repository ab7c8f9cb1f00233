/**
 * `--source both`: do the pcap and the eBPF captures of one run tell the same story? Compared on
 * what the lesson rests on — the hop sequence of each path (points and translations) and the
 * verdicts — not on packet counts, which differ by design (the probe sees no ARP, for one).
 * Under load the probe can miss a packet of a flow, which splits or cuts that one flow; so the
 * sources agree when every path carrying at least 5% of either side's flows is on both sides and
 * each verdict's count differs by at most 5% of the flows. Every difference is still listed.
 */
import { clientFlows, type ContractReport } from '../../analyzer/report/contract.js';

const TOLERANCE = 0.05;

function shapes(r: ContractReport): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of clientFlows(r)) {
    const key = f.hops.map((h) => `${h.point} ${h.translation}`).join(' → ');
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

export interface SourceComparison {
  agree: boolean;
  differences: string[];
}

export function compareSources(pcap: ContractReport, ebpf: ContractReport): SourceComparison {
  const differences: string[] = [];
  let agree = true;
  const a = shapes(pcap);
  const b = shapes(ebpf);
  const total = Math.max(clientFlows(pcap).length, clientFlows(ebpf).length, 1);
  const big = (n: number) => n / total >= TOLERANCE;
  for (const [k, n] of a) {
    if (b.has(k)) continue;
    differences.push(`path seen only by pcap (${n} flows): ${k}`);
    if (big(n)) agree = false;
  }
  for (const [k, n] of b) {
    if (a.has(k)) continue;
    differences.push(`path seen only by eBPF (${n} flows): ${k}`);
    if (big(n)) agree = false;
  }
  for (const v of ['peer', 'ppv2', 'xff', 'lost']) {
    const x = pcap.summary.clientIpAtBackend[v] ?? 0;
    const y = ebpf.summary.clientIpAtBackend[v] ?? 0;
    if (x === y) continue;
    differences.push(`client IP at backend "${v}": pcap ${x}, eBPF ${y}`);
    if (big(Math.abs(x - y))) agree = false;
  }
  return { agree, differences };
}
