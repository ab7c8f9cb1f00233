/**
 * The annotated, merged pcapng: every point's capture merged in time order (a k-way merge that
 * holds one packet per input), one interface per capture point, and each packet the analyzer
 * matched to a hop carrying an opt_comment. Memory is constant in the number of packets (only the
 * annotations are held).
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { NetlabError } from '../../errors.js';
import { enhancedPacket, interfaceDescription, sectionHeader } from './blocks.js';
import { CaptureReader, type CaptureInterface, type CaptureRecord } from './reader.js';

export interface PcapngPoint {
  name: string;
  /** The point's capture file (pcap or pcapng). */
  file: string;
  role?: string | null;
  node?: string | null;
  pod?: string | null;
  interface?: string | null;
  /** For a point cut out of an `-i any` (LINUX_SLL2) capture: keep only this interface index. */
  ifindex?: number | null;
  /** For a point that is one interface of a multi-interface pcapng: keep only this interface id. */
  interfaceId?: number | null;
}

/** A comment for packet number `n` (1-based, in file order, as `netlab decode` numbers it) of a point's file. */
export interface PacketAnnotation {
  point: string;
  n: number;
  comment: string;
}

export interface PcapngWriteResult {
  packets: number;
  commented: number;
  interfaces: number;
  /** Annotations naming a point or packet number that no input has. */
  unmatched: PacketAnnotation[];
  /** Inputs whose last record was cut mid-write (a capture stopped while writing): file and byte offset. */
  truncated: Array<{ file: string; at: number }>;
}

const LINKTYPE_LINUX_SLL2 = 276;
const OUT_CHUNK = 1 << 20;

/** Buffered sequential writes to one file. */
class BlockSink {
  private buf = Buffer.alloc(OUT_CHUNK);
  private used = 0;
  constructor(private readonly fh: FileHandle) {}

  async write(bytes: Buffer): Promise<void> {
    if (this.used + bytes.length > this.buf.length) await this.flush();
    if (bytes.length > this.buf.length) {
      await this.fh.write(bytes);
      return;
    }
    bytes.copy(this.buf, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.used > 0) await this.fh.write(this.buf, 0, this.used);
    this.used = 0;
  }
}

interface Source {
  point: PcapngPoint;
  order: number;
  reader: CaptureReader;
  head: CaptureRecord | null;
}

export function describePoint(p: PcapngPoint): string {
  const parts = [`role=${p.role ?? 'unknown'}`];
  if (p.node) parts.push(`node=${p.node}`);
  if (p.pod) parts.push(`pod=${p.pod}`);
  if (p.interface) parts.push(`if=${p.interface}`);
  return parts.join(' ');
}

function sll2Ifindex(data: Uint8Array): number {
  return data.length >= 8 ? ((data[4]! << 24) | (data[5]! << 16) | (data[6]! << 8) | data[7]!) : -1;
}

const isSet = (v: number | null | undefined): v is number => v !== null && v !== undefined;

function interfaceBelongs(point: PcapngPoint, iface: CaptureInterface): boolean {
  return !isSet(point.interfaceId) || iface.index === point.interfaceId;
}

/** The next packet of this source that belongs to its point. */
async function advance(s: Source): Promise<CaptureRecord | null> {
  while (true) {
    const r = await s.reader.next();
    if (!r) return null;
    if (!interfaceBelongs(s.point, r.iface)) continue;
    if (!isSet(s.point.ifindex)) return r;
    if (r.iface.linktype === LINKTYPE_LINUX_SLL2 && sll2Ifindex(r.data) === s.point.ifindex) return r;
  }
}

/** Decimal exponent for the output interface: keep the input's unit where pcapng can say it exactly. */
function outputTsresol(iface: CaptureInterface): number {
  return iface.tsresol.base === 10 && iface.tsresol.exp <= 9 ? iface.tsresol.exp : 9;
}

/** The earliest head; ties go to the earlier point so equal timestamps keep a stable order. */
function earliest(sources: Source[]): Source | null {
  // A linear scan: a capture has a handful of points, fewer than a heap would pay for.
  let best: Source | null = null;
  for (const s of sources) {
    if (!s.head) continue;
    if (!best || s.head.tsNs < best.head!.tsNs || (s.head.tsNs === best.head!.tsNs && s.order < best.order)) best = s;
  }
  return best;
}

export async function writeAnnotatedPcapng(out: string, points: PcapngPoint[], annotations: readonly PacketAnnotation[]): Promise<PcapngWriteResult> {
  const byPacket = new Map<string, string[]>();
  for (const a of annotations) {
    const key = `${a.point}\u0000${a.n}`;
    const list = byPacket.get(key);
    if (list) list.push(a.comment);
    else byPacket.set(key, [a.comment]);
  }

  const sources: Source[] = [];
  let fh: FileHandle | null = null;
  try {
    for (const [order, point] of points.entries()) {
      const reader = await CaptureReader.open(point.file);
      const s: Source = { point, order, reader, head: null };
      sources.push(s);
      s.head = await advance(s);
    }
    try {
      fh = await open(out, 'w');
    } catch (err) {
      throw new NetlabError(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'choose a writable path for --pcapng', cause: err });
    }
    const sink = new BlockSink(fh);
    await sink.write(sectionHeader('netlab (annotated hops)'));

    const outIds = new Map<string, { id: number; tsresolExp: number }>();
    const declare = async (s: Source, iface: CaptureInterface) => {
      const key = `${s.order}:${iface.index}`;
      const known = outIds.get(key);
      if (known) return known;
      const several = s.reader.interfaces.length > 1 && !isSet(s.point.ifindex) && !isSet(s.point.interfaceId);
      const entry = { id: outIds.size, tsresolExp: outputTsresol(iface) };
      await sink.write(
        interfaceDescription({
          linktype: iface.linktype,
          snaplen: iface.snaplen,
          name: several ? `${s.point.name}:${iface.name ?? iface.index}` : s.point.name,
          description: describePoint(s.point),
          tsresolExp: entry.tsresolExp,
        }),
      );
      outIds.set(key, entry);
      return entry;
    };
    // Every point gets its interface up front, even one that captured nothing.
    for (const s of sources) for (const iface of s.reader.interfaces) if (interfaceBelongs(s.point, iface)) await declare(s, iface);

    let packets = 0;
    let commented = 0;
    const used = new Set<string>();
    for (let s = earliest(sources); s; s = earliest(sources)) {
      const r = s.head!;
      const { id, tsresolExp } = await declare(s, r.iface);
      const key = `${s.point.name}\u0000${r.n}`;
      const comments = byPacket.get(key) ?? [];
      if (comments.length > 0) {
        commented++;
        used.add(key);
      }
      const units = r.tsNs / 10n ** BigInt(9 - tsresolExp);
      await sink.write(enhancedPacket(id, units, r.data, r.origLen, comments));
      packets++;
      s.head = await advance(s);
    }
    await sink.flush();
    const unmatched = annotations.filter((a) => !used.has(`${a.point}\u0000${a.n}`));
    const truncated = sources.flatMap((s) => (s.reader.truncatedTailAt === null ? [] : [{ file: s.point.file, at: s.reader.truncatedTailAt }]));
    return { packets, commented, interfaces: outIds.size, unmatched, truncated };
  } catch (err) {
    if (fh) {
      await fh.close();
      fh = null;
      await rm(out, { force: true });
    }
    throw err;
  } finally {
    await fh?.close();
    for (const s of sources) await s.reader.close();
  }
}
