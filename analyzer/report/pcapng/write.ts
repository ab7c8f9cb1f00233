/**
 * The annotated, merged pcapng: every point's capture merged in time order (a k-way merge that
 * holds one packet per input), one interface per capture point, and each packet the analyzer
 * matched to a hop carrying an opt_comment. Memory is constant in the number of packets (only the
 * annotations are held). Synchronous reads and writes: the merge is a batch step, and a promise
 * per packet would cost more than the copying.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { NetlabError } from '../../errors.js';
import { enhancedPacketLength, interfaceDescription, sectionHeader, timestampHalves, writeEnhancedPacket } from './blocks.js';
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

/** Buffered sequential writes to one file; blocks are encoded straight into its buffer. */
class BlockSink {
  private buf = Buffer.alloc(OUT_CHUNK);
  private used = 0;
  constructor(private readonly fd: number) {}

  /** Room for `len` bytes at the returned offset of `this.buffer`; call `commit(len)` after filling it. */
  reserve(len: number): number {
    if (this.used + len > this.buf.length) {
      this.flush();
      if (len > this.buf.length) this.buf = Buffer.alloc(len);
    }
    return this.used;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  commit(len: number): void {
    this.used += len;
  }

  write(bytes: Buffer): void {
    const at = this.reserve(bytes.length);
    bytes.copy(this.buf, at);
    this.commit(bytes.length);
  }

  flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }
}

interface Source {
  point: PcapngPoint;
  order: number;
  reader: CaptureReader;
  head: CaptureRecord | null;
  /** Packet number → UTF-8 comments, for this point. */
  comments: Map<number, Uint8Array[]>;
  /** Input interface index → output interface. */
  outputs: Array<OutputInterface | undefined>;
}

interface OutputInterface {
  id: number;
  /** Output timestamp units per second and nanoseconds per unit. */
  unitsPerSec: number;
  nsPerUnit: number;
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
function advance(s: Source): CaptureRecord | null {
  while (true) {
    const r = s.reader.next();
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
    const h = s.head;
    const b = best?.head;
    if (!b || h.tsSec < b.tsSec || (h.tsSec === b.tsSec && (h.tsNsec < b.tsNsec || (h.tsNsec === b.tsNsec && s.order < best!.order)))) best = s;
  }
  return best;
}

export async function writeAnnotatedPcapng(out: string, points: PcapngPoint[], annotations: readonly PacketAnnotation[]): Promise<PcapngWriteResult> {
  return writeAnnotatedPcapngSync(out, points, annotations);
}

export function writeAnnotatedPcapngSync(out: string, points: PcapngPoint[], annotations: readonly PacketAnnotation[]): PcapngWriteResult {
  const perPoint = new Map<string, Map<number, Uint8Array[]>>(points.map((p) => [p.name, new Map()]));
  for (const a of annotations) {
    const byN = perPoint.get(a.point);
    if (!byN) continue;
    const list = byN.get(a.n);
    const bytes = Buffer.from(a.comment, 'utf8');
    if (list) list.push(bytes);
    else byN.set(a.n, [bytes]);
  }

  const sources: Source[] = [];
  let fd: number | null = null;
  try {
    for (const [order, point] of points.entries()) {
      const s: Source = { point, order, reader: CaptureReader.open(point.file), head: null, comments: perPoint.get(point.name)!, outputs: [] };
      sources.push(s);
      s.head = advance(s);
    }
    try {
      fd = openSync(out, 'w');
    } catch (err) {
      throw new NetlabError(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'choose a writable path for --pcapng', cause: err });
    }
    const sink = new BlockSink(fd);
    sink.write(sectionHeader('netlab (annotated hops)'));

    let interfaces = 0;
    const declare = (s: Source, iface: CaptureInterface): OutputInterface => {
      const known = s.outputs[iface.index];
      if (known) return known;
      const several = s.reader.interfaces.length > 1 && !isSet(s.point.ifindex) && !isSet(s.point.interfaceId);
      const tsresolExp = outputTsresol(iface);
      const entry = { id: interfaces++, unitsPerSec: 10 ** tsresolExp, nsPerUnit: 10 ** (9 - tsresolExp) };
      sink.write(
        interfaceDescription({
          linktype: iface.linktype,
          snaplen: iface.snaplen,
          name: several ? `${s.point.name}:${iface.name ?? iface.index}` : s.point.name,
          description: describePoint(s.point),
          tsresolExp,
        }),
      );
      s.outputs[iface.index] = entry;
      return entry;
    };
    // Every point gets its interface up front, even one that captured nothing.
    for (const s of sources) for (const iface of s.reader.interfaces) if (interfaceBelongs(s.point, iface)) declare(s, iface);

    let packets = 0;
    let commented = 0;
    const used = new Set<string>();
    const none: Uint8Array[] = [];
    for (let s = earliest(sources); s; s = earliest(sources)) {
      const r = s.head!;
      const { id, unitsPerSec, nsPerUnit } = s.outputs[r.iface.index] ?? declare(s, r.iface);
      const comments = s.comments.get(r.n) ?? none;
      if (comments.length > 0) {
        commented++;
        used.add(`${s.point.name}\u0000${r.n}`);
      }
      const [high, low] = timestampHalves(r.tsSec, unitsPerSec, Math.floor(r.tsNsec / nsPerUnit));
      const at = sink.reserve(enhancedPacketLength(r.data.length, comments));
      sink.commit(writeEnhancedPacket(sink.buffer, at, id, high, low, r.data, r.origLen, comments));
      packets++;
      s.head = advance(s);
    }
    sink.flush();
    const unmatched = annotations.filter((a) => !used.has(`${a.point}\u0000${a.n}`));
    const truncated = sources.flatMap((s) => (s.reader.truncatedTailAt === null ? [] : [{ file: s.point.file, at: s.reader.truncatedTailAt }]));
    return { packets, commented, interfaces, unmatched, truncated };
  } catch (err) {
    if (fd !== null) {
      closeSync(fd);
      fd = null;
      rmSync(out, { force: true });
    }
    throw err;
  } finally {
    if (fd !== null) closeSync(fd);
    for (const s of sources) s.reader.close();
  }
}
