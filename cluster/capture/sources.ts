/**
 * `--source both`: do the pcap and the eBPF captures of one run tell the same story? Compared on
 * what the lesson rests on — the hop sequence of each path (points and translations) and the
 * verdicts — not on packet counts, which differ by design (the probe sees no ARP, for one).
 */
import { clientFlows, type ContractReport } from '../../analyzer/report/contract.js';

function shapes(r: ContractReport): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of clientFlows(r)) {
    const key = f.hops.map((h) => `${h.point} ${h.translation}`).join(' → ');
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

export function compareSources(pcap: ContractReport, ebpf: ContractReport): { differences: string[] } {
  const differences: string[] = [];
  const a = shapes(pcap);
  const b = shapes(ebpf);
  for (const [k, n] of a) if (!b.has(k)) differences.push(`path seen only by pcap (${n} flows): ${k}`);
  for (const [k, n] of b) if (!a.has(k)) differences.push(`path seen only by eBPF (${n} flows): ${k}`);
  for (const v of ['peer', 'ppv2', 'xff', 'lost']) {
    const x = pcap.summary.clientIpAtBackend[v] ?? 0;
    const y = ebpf.summary.clientIpAtBackend[v] ?? 0;
    if (x !== y) differences.push(`client IP at backend "${v}": pcap ${x}, eBPF ${y}`);
  }
  return { differences };
}
