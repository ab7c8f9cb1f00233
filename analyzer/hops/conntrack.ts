/**
 * Ground truth: the kernel's own NAT records. `conntrack -E -o extended` (events) or
 * `conntrack -L -o extended` (a snapshot) list, per connection, the original tuple and the reply
 * tuple; the reply tuple's source is where DNAT sent the packet, its destination what SNAT made of
 * the sender. Each NAT step inferred from the packets at a host is compared with that host's
 * entry for the same tuple, and NAT the kernel recorded but the packets did not show is reported
 * too: disagreement is a finding to show, not to hide.
 */
import { readFile } from 'node:fs/promises';
import { endpoint } from '../correlate/observation.js';
import type { FlowResult, GroundTruth, GroundTruthCheck, PointInfo, Warning } from './types.js';

export interface ConntrackEntry {
  /** Original direction, as "ip:port". */
  origSrc: string;
  origDst: string;
  /** Reply direction. */
  replySrc: string;
  replyDst: string;
  line: number;
}

const TUPLE = /src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g;

/** Parse conntrack's extended output; TCP and UDP lines only, one entry per original tuple. */
export function parseConntrack(text: string): ConntrackEntry[] {
  const byOrig = new Map<string, ConntrackEntry>();
  text.split('\n').forEach((line, i) => {
    if (!/\b(tcp|udp)\b/.test(line)) return;
    const tuples = [...line.matchAll(TUPLE)];
    if (tuples.length < 2) return;
    const [o, r] = tuples as [RegExpMatchArray, RegExpMatchArray];
    const e: ConntrackEntry = {
      origSrc: endpoint(o[1]!, Number(o[3])), origDst: endpoint(o[2]!, Number(o[4])),
      replySrc: endpoint(r[1]!, Number(r[3])), replyDst: endpoint(r[2]!, Number(r[4])), line: i + 1,
    };
    const key = `${e.origSrc}>${e.origDst}`;
    if (!byOrig.has(key)) byOrig.set(key, e);
  });
  return [...byOrig.values()];
}

/** What the kernel did to the original tuple: "DNAT a → b", "SNAT a → b", both, or "none". */
export function describeNat(before: { src: string; dst: string }, after: { src: string; dst: string }): string {
  const parts: string[] = [];
  if (before.dst !== after.dst) parts.push(`DNAT ${before.dst} → ${after.dst}`);
  if (before.src !== after.src) parts.push(`SNAT ${before.src} → ${after.src}`);
  return parts.length ? parts.join(', ') : 'none';
}

function kernelAfter(e: ConntrackEntry): { src: string; dst: string } {
  return { src: e.replyDst, dst: e.replySrc };
}

export interface ConntrackSource {
  namespace: string;
  node?: string | null;
  file: string;
  label: string;
}

export async function compareWithConntrack(flows: readonly FlowResult[], points: readonly PointInfo[], sources: readonly ConntrackSource[],
  warnings: Warning[]): Promise<GroundTruth> {
  const gt: GroundTruth = { files: [], entries: 0, checked: 0, agree: 0, disagree: 0, checks: [] };
  const add = (c: GroundTruthCheck) => {
    gt.checks.push(c);
    gt.checked++;
    if (c.agree) gt.agree++;
    else gt.disagree++;
  };
  for (const src of sources) {
    let text: string;
    try {
      text = await readFile(src.file, 'utf8');
    } catch {
      warnings.push({ severity: 'notice', message: `conntrack log ${src.label} cannot be read; no ground truth for ${src.namespace}`, where: src.label });
      continue;
    }
    gt.files.push(src.label);
    const entries = parseConntrack(text);
    gt.entries += entries.length;
    const byOrig = new Map(entries.map((e) => [`${e.origSrc}>${e.origDst}`, e]));
    const here = (at: string | null) => at !== null && (at === src.namespace || (src.node != null && at === src.node));
    const hostPoints = new Set(points.filter((p) => p.host === src.namespace || (src.node != null && p.node === src.node && p.role === 'node')).map((p) => p.name));
    for (const f of flows) {
      let natHere = false;
      f.hops.forEach((h, i) => {
        if (i === 0 || !['dnat', 'snat', 'dnat+snat'].includes(h.translation) || !here(h.at)) return;
        natHere = true;
        const prev = f.hops[i - 1]!;
        const e = byOrig.get(`${prev.src}>${prev.dst}`);
        const inferred = describeNat(prev, h);
        if (!e) {
          add({ flow: f.id, host: src.namespace, inferred, conntrack: `no entry for ${prev.src} → ${prev.dst}`, agree: false });
          return;
        }
        const kernel = describeNat({ src: e.origSrc, dst: e.origDst }, kernelAfter(e));
        add({ flow: f.id, host: src.namespace, inferred, conntrack: kernel, agree: kernel === inferred });
      });
      if (natHere) continue;
      // NAT the kernel did at this host for a tuple this flow carried into it, which the packets did not show.
      for (const h of f.hops) {
        if (!hostPoints.has(h.point)) continue;
        const e = byOrig.get(`${h.src}>${h.dst}`);
        if (!e) continue;
        const kernel = describeNat({ src: e.origSrc, dst: e.origDst }, kernelAfter(e));
        if (kernel === 'none') continue;
        const after = kernelAfter(e);
        // Without a capture point after this host the translation cannot be checked either way.
        if (!f.hops.some((x) => x.src === after.src && x.dst === after.dst)) break;
        add({ flow: f.id, host: src.namespace, inferred: 'the translated packet, but no step attributed to this host', conntrack: kernel, agree: false });
        break;
      }
    }
  }
  return gt;
}
