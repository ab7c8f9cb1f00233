/**
 * Framing-only streaming reader for pcap and pcapng: yields each packet's raw bytes with its
 * timestamp in nanoseconds and its interface, reading the file in fixed chunks (memory stays at
 * one chunk plus the largest packet). The annotated-pcapng writer needs raw frames, not decoded
 * fields, so this stays separate from analyzer/decode. Reads are synchronous, as in the decoder's
 * fast path: a promise per packet costs more than the copying.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { NetlabError } from '../../errors.js';

export interface CaptureInterface {
  /** Index among this file's interfaces (pcapng IDB order; 0 for pcap). */
  index: number;
  linktype: number;
  snaplen: number;
  /** pcapng if_name / if_description when present. */
  name: string | null;
  description: string | null;
  /** Resolution of the file's timestamps: "decimal" 10^-exp or "binary" 2^-exp seconds. */
  tsresol: { base: 10 | 2; exp: number };
}

export interface CaptureRecord {
  /** 1-based packet number in the file (every packet block counts), as `netlab decode` numbers it. */
  n: number;
  /** Timestamp as seconds since the epoch plus nanoseconds (two numbers: no BigInt per packet). */
  tsSec: number;
  tsNsec: number;
  iface: CaptureInterface;
  origLen: number;
  /** The frame; a view into the reader's buffer, valid until the next `next()` on this reader. */
  data: Uint8Array;
}

const CHUNK = 1 << 20;
/** No capture tool writes a larger frame (libpcap's maximum snap length). */
const MAX_CAPLEN = 262144;
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

function nsFromUnits(units: bigint, res: CaptureInterface['tsresol']): bigint {
  if (res.base === 10) return res.exp <= 9 ? units * 10n ** BigInt(9 - res.exp) : units / 10n ** BigInt(res.exp - 9);
  return (units * 1_000_000_000n) >> BigInt(res.exp);
}

export class CaptureReader {
  readonly interfaces: CaptureInterface[] = [];
  readonly format: 'pcap' | 'pcapng';
  private buf: Buffer = Buffer.alloc(CHUNK);
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;
  private little = true;
  private n = 0;
  private lastSec = 0;
  private lastNsec = 0;
  private tsOffsetNs = new Map<number, bigint>();
  /** Byte offset of a last record cut mid-write (a capture stopped while writing), or null. */
  truncatedTailAt: number | null = null;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    format: 'pcap' | 'pcapng',
  ) {
    this.format = format;
  }

  static open(path: string): CaptureReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new NetlabError(`cannot read capture ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'check the path', cause: err });
    }
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    const be = head.readUInt32BE(0);
    const le = head.readUInt32LE(0);
    const format = be === PCAPNG_SHB ? 'pcapng' : [be, le].some((m) => m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) ? 'pcap' : null;
    if (!format) {
      closeSync(fd);
      throw new NetlabError(`${path}: not a pcap or pcapng file (magic 0x${be.toString(16).padStart(8, '0')} at byte 0)`, { hint: 'give a capture written by tcpdump, tshark or netlab' });
    }
    const reader = new CaptureReader(path, fd, format);
    try {
      if (format === 'pcap') reader.readPcapHeader();
    } catch (err) {
      reader.close();
      throw err;
    }
    return reader;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Makes `len` bytes available at `this.start`; false at a clean end of file. */
  private need(len: number): boolean {
    while (this.end - this.start < len) {
      if (this.eof) return false;
      if (this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
        this.base += this.start;
        this.end -= this.start;
        this.start = 0;
      }
      if (this.buf.length < len) {
        const bigger = Buffer.alloc(Math.max(len, this.buf.length * 2));
        this.buf.copy(bigger, 0, 0, this.end);
        this.buf = bigger;
      }
      const bytesRead = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
    }
    return true;
  }

  private u16(off: number): number {
    return this.little ? this.buf.readUInt16LE(this.start + off) : this.buf.readUInt16BE(this.start + off);
  }

  private u32(off: number): number {
    return this.little ? this.buf.readUInt32LE(this.start + off) : this.buf.readUInt32BE(this.start + off);
  }

  private malformed(what: string, at = this.base + this.start): never {
    throw new NetlabError(`${this.path}: ${what} at byte ${at}`, { hint: 'the capture is damaged; check it with `netlab decode FILE --format summary`' });
  }

  private readPcapHeader(): void {
    if (!this.need(24)) this.malformed('truncated pcap file header');
    const magicLe = this.buf.readUInt32LE(0);
    this.little = magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS;
    const nano = this.u32(0) === PCAP_MAGIC_NS;
    this.interfaces.push({
      index: 0,
      snaplen: this.u32(16),
      linktype: this.u32(20) & 0x0fffffff,
      name: null,
      description: null,
      tsresol: { base: 10, exp: nano ? 9 : 6 },
    });
    this.start += 24;
  }

  /** The next packet, or null at the end of the file. */
  next(): CaptureRecord | null {
    return this.format === 'pcap' ? this.nextPcap() : this.nextPcapng();
  }

  private nextPcap(): CaptureRecord | null {
    if (!this.need(16)) return this.endOfFile();
    const sec = this.u32(0);
    const frac = this.u32(4);
    const caplen = this.u32(8);
    const origLen = this.u32(12);
    const iface = this.interfaces[0]!;
    if (caplen > MAX_CAPLEN) this.malformed(`packet ${this.n + 1} claims ${caplen} captured bytes, over the ${MAX_CAPLEN} any capture tool writes`);
    if (!this.need(16 + caplen)) return this.endOfFile();
    this.start += 16;
    const data = this.buf.subarray(this.start, this.start + caplen);
    this.start += caplen;
    this.n++;
    const tsNsec = iface.tsresol.exp === 9 ? frac : frac * 1000;
    return { n: this.n, tsSec: sec, tsNsec, iface, origLen, data };
  }

  private nextPcapng(): CaptureRecord | null {
    while (true) {
      if (!this.need(12)) return this.endOfFile();
      let type = this.u32(0);
      if (type === PCAPNG_SHB) {
        const bom = this.buf.readUInt32LE(this.start + 8);
        if (bom === PCAPNG_BOM) this.little = true;
        else if (bom === 0x4d3c2b1a) this.little = false;
        else this.malformed('bad pcapng byte-order magic');
        type = PCAPNG_SHB;
      }
      const len = this.u32(4);
      if (len < 12 || len % 4 !== 0) this.malformed(`bad pcapng block length ${len}`);
      if (!this.need(len)) return this.endOfFile();
      if (this.u32(len - 4) !== len) this.malformed(`pcapng block length ${len} does not match its trailing copy ${this.u32(len - 4)}`);
      const blockStart = this.start;
      let record: CaptureRecord | null = null;
      switch (type) {
        case PCAPNG_SHB:
          // A new section starts its own interface list.
          this.interfaces.length = 0;
          this.tsOffsetNs.clear();
          break;
        case 1:
          this.readIdb(len);
          break;
        case 6:
          record = this.readEpb(len);
          break;
        case 3:
          record = this.readSpb(len);
          break;
        case 2:
          record = this.readObsoletePacket(len);
          break;
        default:
          break;
      }
      this.start = blockStart + len;
      if (record) return record;
    }
  }

  /** The end: clean, or inside a last record that the capture tool never finished writing. */
  private endOfFile(): null {
    if (this.end > this.start) this.truncatedTailAt = this.base + this.start;
    return null;
  }

  private readIdb(len: number): void {
    const iface: CaptureInterface = {
      index: this.interfaces.length,
      linktype: this.u16(8),
      snaplen: this.u32(12),
      name: null,
      description: null,
      tsresol: { base: 10, exp: 6 },
    };
    let offsetNs = 0n;
    this.forOptions(16, len - 4, (code, off, olen) => {
      const at = this.start + off;
      if (code === 2) iface.name = this.buf.toString('utf8', at, at + olen);
      else if (code === 3) iface.description = this.buf.toString('utf8', at, at + olen);
      else if (code === 9 && olen >= 1) {
        const v = this.buf[at]!;
        iface.tsresol = v & 0x80 ? { base: 2, exp: v & 0x7f } : { base: 10, exp: v };
      } else if (code === 14 && olen >= 8) {
        offsetNs = (this.little ? this.buf.readBigInt64LE(at) : this.buf.readBigInt64BE(at)) * 1_000_000_000n;
      }
    });
    this.tsOffsetNs.set(iface.index, offsetNs);
    this.interfaces.push(iface);
  }

  private forOptions(from: number, to: number, visit: (code: number, off: number, len: number) => void): void {
    let off = from;
    while (off + 4 <= to) {
      const code = this.u16(off);
      const olen = this.u16(off + 2);
      if (code === 0) return;
      if (off + 4 + olen > to) this.malformed(`pcapng option ${code} overruns its block`, this.base + this.start + off);
      visit(code, off + 4, olen);
      off += 4 + olen + ((4 - (olen % 4)) % 4);
    }
  }

  private ifaceOrFail(id: number): CaptureInterface {
    const iface = this.interfaces[id];
    if (!iface) this.malformed(`packet refers to interface ${id}, which no interface description block defined`);
    return iface;
  }

  private packet(ifId: number, tsUnits: bigint, caplen: number, origLen: number, dataOff: number, len: number): CaptureRecord {
    const iface = this.ifaceOrFail(ifId);
    if (caplen > MAX_CAPLEN || dataOff + caplen > len - 4) this.malformed(`packet data (${caplen} bytes) overruns its ${len}-byte block`);
    this.n++;
    const tsNs = nsFromUnits(tsUnits, iface.tsresol) + (this.tsOffsetNs.get(ifId) ?? 0n);
    this.lastSec = Number(tsNs / 1_000_000_000n);
    this.lastNsec = Number(tsNs % 1_000_000_000n);
    const data = this.buf.subarray(this.start + dataOff, this.start + dataOff + caplen);
    return { n: this.n, tsSec: this.lastSec, tsNsec: this.lastNsec, iface, origLen, data };
  }

  private readEpb(len: number): CaptureRecord {
    const ts = (BigInt(this.u32(12)) << 32n) | BigInt(this.u32(16));
    return this.packet(this.u32(8), ts, this.u32(20), this.u32(24), 28, len);
  }

  private readObsoletePacket(len: number): CaptureRecord {
    const ts = (BigInt(this.u32(12)) << 32n) | BigInt(this.u32(16));
    return this.packet(this.u16(8), ts, this.u32(20), this.u32(24), 28, len);
  }

  /** Simple packet blocks carry no timestamp: they take the previous packet's. */
  private readSpb(len: number): CaptureRecord {
    const iface = this.ifaceOrFail(0);
    const origLen = this.u32(8);
    const caplen = Math.min(origLen, len - 16, iface.snaplen || Infinity);
    const sec = this.lastSec;
    const nsec = this.lastNsec;
    const record = this.packet(0, 0n, caplen, origLen, 12, len);
    record.tsSec = this.lastSec = sec;
    record.tsNsec = this.lastNsec = nsec;
    return record;
  }
}
