/**
 * PacketDecoder: the synchronous streaming core. Bytes arrive in chunks of any size; complete
 * container units (pcap records, pcapng blocks) are decoded straight from the chunk, and only a
 * unit that straddles two chunks is copied into a small carry-over buffer. One PacketRecord is
 * refilled per packet and handed to the callback.
 *
 * Three outcomes, kept apart: "need more bytes" (wait for the next chunk), "malformed packet"
 * (counted by reason with its offset, `rec.error` set, decoding goes on), and "broken container"
 * (a NetlabError naming the byte offset: nothing after it can be trusted).
 */
import { NetlabError } from '../errors.js';
import { COUNT_NAMES, DEPTH, DecodeContext, resetL34, resetPacketRecord } from './context.js';
import { decodeEthernet, decodeLink, LINKTYPE, linktypeName } from './linktypes.js';
import { isPcapMagic, PCAP_FILE_HEADER_LEN, PCAP_RECORD_HEADER_LEN, readPcapHeader } from './pcap.js';
import { BLOCK, BYTE_ORDER_MAGIC, readIdb, splitTimestamp, type InterfaceInfo, type InterfaceState } from './pcapng.js';
import { FlowReassembly } from './reassembly.js';
import type { PacketRecord } from './record.js';

export type { InterfaceInfo } from './pcapng.js';

/** A packet longer than this is not something any capture tool writes: the length field is corrupt. */
export const MAX_CAPLEN = 256 * 1024;
/** pcapng blocks netlab must read whole (SHB, IDB, packets) are never near this big. */
const MAX_PARSED_BLOCK = 2 * 1024 * 1024;

export interface DecodeOptions {
  /** Name used in error messages (a file path, "stdin"). */
  source?: string;
  /** Reassemble PROXY headers split across segments (default true). */
  reassemble?: boolean;
  /** Flows tracked at once by that reassembly (default 1024). */
  maxFlows?: number;
}

export interface DecodeSummary {
  packets: number;
  /** Captured bytes of all packets. */
  bytes: number;
  /** Input bytes read (container included). */
  inputBytes: number;
  container: 'pcap' | 'pcapng' | null;
  linktypes: Record<string, number>;
  protocols: Record<string, number>;
  ppv2Headers: number;
  http: number;
  malformed: Record<string, { count: number; firstOffset: number }>;
  interfaces: InterfaceInfo[];
  firstTs: string | null;
  lastTs: string | null;
}

const enum Mode { START, PCAP_HEADER, PCAP, PCAPNG }

export class PacketDecoder {
  private readonly ctx: DecodeContext;
  private readonly rec: PacketRecord;
  private readonly source: string;
  private mode = Mode.START;
  private le = true;
  private nanosecond = false;
  private pcapLinktype = 0;
  private section = -1;
  private ifaces: InterfaceState[] = [];
  private readonly allIfaces: InterfaceInfo[] = [];
  private carry = new Uint8Array(64 * 1024);
  private carryDv = new DataView(this.carry.buffer);
  private carryLen = 0;
  /** Bytes the unit at the head of the input needs before it can be decoded. */
  private need = 4;
  /** Bytes still to skip of a large block netlab does not read. */
  private skip = 0;
  /** Stream offset of the first byte not yet consumed. */
  private offset = 0;
  private packets = 0;
  private capturedBytes = 0;
  private readonly linkCounts = new Map<number, number>();
  private lastLinktype = -1;
  private lastLinkCount = 0;
  private readonly malformed = new Map<string, { count: number; firstOffset: number }>();
  private readonly ts = new Float64Array(2);
  private firstSec = -1;
  private firstNsec = 0;
  private finished = false;

  constructor(private readonly onPacket: (rec: PacketRecord) => void, opts: DecodeOptions = {}) {
    this.source = opts.source ?? 'input';
    this.ctx = new DecodeContext(opts.reassemble === false ? null : new FlowReassembly(opts.maxFlows ?? 1024));
    this.rec = this.ctx.rec;
  }

  /** Feed the next bytes of the capture. Throws NetlabError when the container is broken. */
  push(input: Uint8Array): void {
    if (this.finished) throw new Error('PacketDecoder.push after finish');
    // One plain Uint8Array class for every buffer the protocol decoders index (a Buffer is a
    // subclass): their property accesses then stay monomorphic, which measurably matters.
    const chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    let pos = 0;
    const len = chunk.length;
    if (this.skip > 0) {
      const n = this.skip < len ? this.skip : len;
      this.skip -= n;
      this.offset += n;
      pos = n;
    }
    if (pos < len && this.carryLen > 0) pos = this.fillCarry(chunk, pos);
    if (pos >= len || this.carryLen > 0) return;
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (pos < len) {
      if (this.mode === Mode.PCAP) {
        pos = this.pcapRecords(dv, chunk, pos, len);
        break;
      }
      if (this.skip > 0) {
        const n = this.skip < len - pos ? this.skip : len - pos;
        this.skip -= n;
        this.offset += n;
        pos += n;
        continue;
      }
      if (this.mode === Mode.PCAPNG) {
        const next = this.packetBlocks(dv, chunk, pos, len);
        if (next > pos) { pos = next; continue; }
      }
      const used = this.unit(dv, chunk, pos, len - pos);
      if (used === 0) break;
      pos += used;
      this.offset += used;
    }
    if (pos < len) this.stash(chunk, pos, len);
  }

  /** Complete the unit waiting in the carry buffer from `chunk`; returns the new position in it. */
  private fillCarry(chunk: Uint8Array, pos: number): number {
    const len = chunk.length;
    while (this.carryLen > 0 && pos < len) {
      const want = this.need - this.carryLen;
      const take = want < len - pos ? want : len - pos;
      this.ensureCarry(this.carryLen + take);
      this.carry.set(chunk.subarray(pos, pos + take), this.carryLen);
      this.carryLen += take;
      pos += take;
      if (this.carryLen < this.need) break;
      const used = this.unit(this.carryDv, this.carry, 0, this.carryLen);
      if (used === 0) continue; // the header is in; `need` now covers the whole unit
      this.offset += used;
      // `need` never exceeds one unit, so a decoded unit empties the carry buffer.
      this.carryLen = 0;
      if (this.skip > 0) {
        const n = this.skip < len - pos ? this.skip : len - pos;
        this.skip -= n;
        this.offset += n;
        pos += n;
      }
    }
    return pos;
  }

  private stash(chunk: Uint8Array, pos: number, len: number): void {
    this.ensureCarry(len - pos);
    this.carry.set(chunk.subarray(pos, len), 0);
    this.carryLen = len - pos;
  }

  private ensureCarry(size: number): void {
    if (size <= this.carry.length) return;
    let n = this.carry.length;
    while (n < size) n *= 2;
    const bigger = new Uint8Array(n);
    bigger.set(this.carry.subarray(0, this.carryLen));
    this.carry = bigger;
    this.carryDv = new DataView(bigger.buffer);
  }

  private where(off: number): string {
    return `${this.source}: byte ${off}`;
  }

  /**
   * Decode one container unit at b[off, off+avail). Returns the bytes it used, or 0 after setting
   * `need` when more bytes must arrive first. `this.offset` is the unit's stream offset.
   */
  private unit(dv: DataView, b: Uint8Array, off: number, avail: number): number {
    switch (this.mode) {
      case Mode.PCAP: return this.pcapRecord(dv, b, off, avail);
      case Mode.PCAPNG: return this.pcapngBlock(dv, b, off, avail);
      case Mode.PCAP_HEADER: {
        if (avail < PCAP_FILE_HEADER_LEN) { this.need = PCAP_FILE_HEADER_LEN; return 0; }
        const h = readPcapHeader(dv, off, this.source);
        this.le = h.littleEndian;
        this.ctx.littleEndian = h.littleEndian;
        this.nanosecond = h.nanosecond;
        this.pcapLinktype = h.linktype;
        this.allIfaces.push({ id: 0, section: 0, linktype: h.linktype, name: null, description: null, tsresolNs: h.nanosecond ? 1 : 1000 });
        this.mode = Mode.PCAP;
        this.need = PCAP_RECORD_HEADER_LEN;
        return PCAP_FILE_HEADER_LEN;
      }
      default: {
        if (avail < 4) { this.need = 4; return 0; }
        const magic = dv.getUint32(off);
        if (magic === BLOCK.SHB) this.mode = Mode.PCAPNG;
        else if (isPcapMagic(magic)) this.mode = Mode.PCAP_HEADER;
        else {
          throw new NetlabError(`not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`, {
            where: this.where(this.offset),
            hint: 'give a capture written by tcpdump -w, tshark -w or netlab capture',
          });
        }
        return this.unit(dv, b, off, avail);
      }
    }
  }

  private pcapRecord(dv: DataView, b: Uint8Array, off: number, avail: number): number {
    if (avail < PCAP_RECORD_HEADER_LEN) { this.need = PCAP_RECORD_HEADER_LEN; return 0; }
    const le = this.le;
    const caplen = dv.getUint32(off + 8, le);
    if (caplen > MAX_CAPLEN) {
      throw new NetlabError(`packet record says caplen ${caplen}, over the 256 KiB any capture tool writes`, {
        where: this.where(this.offset + 8),
        hint: 'the file is damaged from here on; keep the packets before it with: editcap -r FILE OUT 1-N',
      });
    }
    const total = PCAP_RECORD_HEADER_LEN + caplen;
    if (avail < total) { this.need = total; return 0; }
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    this.emit(dv, b, off + PCAP_RECORD_HEADER_LEN, caplen, dv.getUint32(off + 12, le), this.pcapLinktype, 0,
      sec, this.nanosecond ? frac : frac * 1000);
    return total;
  }

  /**
   * The pcap hot loop: every whole record of b[pos, len) in one monomorphic loop (no per-record
   * dispatch on the container mode). Returns where the first incomplete record starts.
   */
  private pcapRecords(dv: DataView, b: Uint8Array, pos: number, len: number): number {
    const le = this.le;
    const linktype = this.pcapLinktype;
    const fracToNs = this.nanosecond ? 1 : 1000;
    while (len - pos >= PCAP_RECORD_HEADER_LEN) {
      const caplen = dv.getUint32(pos + 8, le);
      const total = PCAP_RECORD_HEADER_LEN + caplen;
      if (caplen > MAX_CAPLEN || len - pos < total) return pos + this.pcapRecord(dv, b, pos, len - pos);
      this.emit(dv, b, pos + PCAP_RECORD_HEADER_LEN, caplen, dv.getUint32(pos + 12, le), linktype, 0,
        dv.getUint32(pos, le), dv.getUint32(pos + 4, le) * fracToNs);
      pos += total;
      this.offset += total;
    }
    this.need = PCAP_RECORD_HEADER_LEN;
    return pos;
  }

  /**
   * The pcapng hot loop: consecutive well-formed EPBs of b[pos, len) without the generic block
   * checks' dispatch. Returns where it stopped: at any other block, a suspicious length or an
   * incomplete block, which the generic path then handles (and reports).
   */
  private packetBlocks(dv: DataView, b: Uint8Array, pos: number, len: number): number {
    const le = this.le;
    while (len - pos >= 12) {
      const blockLen = dv.getUint32(pos + 4, le);
      if (dv.getUint32(pos, le) !== BLOCK.EPB || blockLen < 32 || blockLen > MAX_PARSED_BLOCK || (blockLen & 3) !== 0
        || len - pos < blockLen || dv.getUint32(pos + blockLen - 4, le) !== blockLen) break;
      this.packetBlock(dv, b, pos, blockLen, dv.getUint32(pos + 8, le), 12, 20, 28);
      pos += blockLen;
      this.offset += blockLen;
    }
    return pos;
  }

  private pcapngBlock(dv: DataView, b: Uint8Array, off: number, avail: number): number {
    if (avail < 12) { this.need = 12; return 0; }
    let le = this.le;
    const typeBE = dv.getUint32(off);
    if (typeBE === BLOCK.SHB) {
      const bom = dv.getUint32(off + 8);
      if (bom === BYTE_ORDER_MAGIC) le = false;
      else if (bom === 0x4d3c2b1a) le = true;
      else {
        throw new NetlabError(`section header has byte-order magic 0x${bom.toString(16)}, not 1a2b3c4d`, {
          where: this.where(this.offset + 8), hint: 'the file is damaged or not pcapng',
        });
      }
    } else if (this.section < 0) {
      throw new NetlabError('pcapng file does not start with a section header block', { where: this.where(this.offset), hint: 'the file is damaged' });
    }
    const type = typeBE === BLOCK.SHB ? BLOCK.SHB : dv.getUint32(off, le);
    const blockLen = dv.getUint32(off + 4, le);
    const parsed = type === BLOCK.SHB || type === BLOCK.IDB || type === BLOCK.EPB || type === BLOCK.SPB || type === BLOCK.PB;
    if (blockLen === 0 || blockLen < 12 || blockLen % 4 !== 0 || (type === BLOCK.SHB && blockLen < 28) || (parsed && blockLen > MAX_PARSED_BLOCK)) {
      throw new NetlabError(`pcapng block of type 0x${type.toString(16)} has impossible length ${blockLen}`, {
        where: this.where(this.offset + 4),
        hint: 'the file is damaged from here on (a pcapng block is at least 12 bytes and a multiple of 4)',
      });
    }
    if (!parsed) {
      // NRB, ISB, custom and unknown blocks: skipped by length, without waiting to hold them whole.
      if (avail >= blockLen) return blockLen;
      this.skip = blockLen - avail;
      return avail;
    }
    if (avail < blockLen) { this.need = blockLen; return 0; }
    if (dv.getUint32(off + blockLen - 4, le) !== blockLen) {
      throw new NetlabError(`pcapng block length ${blockLen} does not match its trailing copy ${dv.getUint32(off + blockLen - 4, le)}`, {
        where: this.where(this.offset + blockLen - 4), hint: 'the file is damaged from here on',
      });
    }
    switch (type) {
      case BLOCK.SHB:
        this.le = le;
        this.ctx.littleEndian = le;
        this.section++;
        this.ifaces = [];
        break;
      case BLOCK.IDB: {
        const iface = readIdb(dv, b, off, blockLen, le, this.ifaces.length, this.section, this.where(this.offset));
        this.ifaces.push(iface);
        this.allIfaces.push(iface.info);
        break;
      }
      case BLOCK.EPB: this.packetBlock(dv, b, off, blockLen, dv.getUint32(off + 8, le), 12, 20, 28); break;
      case BLOCK.PB: this.packetBlock(dv, b, off, blockLen, dv.getUint16(off + 8, le), 12, 20, 28); break;
      case BLOCK.SPB: {
        if (blockLen < 16) throw this.blockTooShort(type, blockLen);
        const origLen = dv.getUint32(off + 8, le);
        const room = blockLen - 16;
        const iface = this.ifaces[0];
        let caplen = origLen < room ? origLen : room;
        if (iface !== undefined && iface.snaplen > 0 && caplen > iface.snaplen) caplen = iface.snaplen;
        if (iface === undefined) { this.orphan(dv, b, off + 12, caplen, origLen, 0); break; }
        this.emit(dv, b, off + 12, caplen, origLen, iface.linktype, 0, 0, 0);
        break;
      }
    }
    this.need = 12;
    return blockLen;
  }

  private blockTooShort(type: number, blockLen: number): NetlabError {
    return new NetlabError(`pcapng block of type ${type} is ${blockLen} bytes, too short for its fields`, {
      where: this.where(this.offset + 4), hint: 'the file is damaged from here on',
    });
  }

  /** EPB and PB: interface id, 64-bit timestamp at tsOff, caplen/origlen at lenOff, data at dataOff. */
  private packetBlock(dv: DataView, b: Uint8Array, off: number, blockLen: number, ifaceId: number, tsOff: number, lenOff: number, dataOff: number): void {
    const le = this.le;
    if (blockLen < dataOff + 4) throw this.blockTooShort(dv.getUint32(off, le), blockLen);
    const caplen = dv.getUint32(off + lenOff, le);
    const origLen = dv.getUint32(off + lenOff + 4, le);
    if (caplen > MAX_CAPLEN) {
      throw new NetlabError(`packet block says caplen ${caplen}, over the 256 KiB any capture tool writes`, {
        where: this.where(this.offset + lenOff), hint: 'the file is damaged from here on',
      });
    }
    if (dataOff + caplen + 4 > blockLen) {
      throw new NetlabError(`packet block says caplen ${caplen}, more than its block length ${blockLen} holds`, {
        where: this.where(this.offset + lenOff), hint: 'the file is damaged from here on',
      });
    }
    const iface = this.ifaces[ifaceId];
    if (iface === undefined) { this.orphan(dv, b, off + dataOff, caplen, origLen, ifaceId); return; }
    splitTimestamp(dv.getInt32(off + tsOff, le), dv.getInt32(off + tsOff + 4, le), iface, this.ts);
    this.emit(dv, b, off + dataOff, caplen, origLen, iface.linktype, ifaceId, this.ts[0], this.ts[1]);
  }

  /** A packet naming an interface no IDB described: reported, not decoded. */
  private orphan(dv: DataView, b: Uint8Array, dataOff: number, caplen: number, origLen: number, ifaceId: number): void {
    this.ctx.fail('unknown-interface');
    this.emit(dv, b, dataOff, caplen, origLen, -1, ifaceId, 0, 0);
  }

  private emit(dv: DataView, b: Uint8Array, dataOff: number, caplen: number, origLen: number, linktype: number, ifaceId: number, sec: number, nsec: number): void {
    const ctx = this.ctx;
    const rec = this.rec;
    const pendingError = rec.error;
    this.resetRecord();
    rec.error = pendingError;
    rec.n = ++this.packets;
    rec.tsSec = sec;
    rec.tsNsec = nsec;
    rec.linktype = linktype;
    rec.interfaceId = ifaceId;
    rec.caplen = caplen;
    rec.origLen = origLen;
    rec.fileOffset = this.offset;
    // Most packets share their chunk with the previous one: skip the pointer store (and its write barrier).
    if (rec.bytes !== b) rec.bytes = b;
    this.capturedBytes += caplen;
    if (this.firstSec < 0) { this.firstSec = sec; this.firstNsec = nsec; }
    if (linktype !== this.lastLinktype) this.switchLinktype(linktype);
    this.lastLinkCount++;
    if (ctx.bytes !== b) ctx.setBuffer(b, dv);
    // Ethernet straight away: the common case skips the link-type switch.
    if (linktype === LINKTYPE.ETHERNET) decodeEthernet(ctx, dataOff, dataOff + caplen, rec, DEPTH.OUTER);
    else if (linktype >= 0) decodeLink(ctx, linktype, dataOff, dataOff + caplen);
    if (rec.error !== null) this.countMalformed(rec.error, this.offset);
    this.onPacket(rec);
    rec.error = null;
  }

  private resetRecord(): void {
    const rec = this.rec;
    const ctx = this.ctx;
    resetPacketRecord(rec);
    if (ctx.innerDirty) { resetL34(rec.inner); ctx.innerDirty = false; }
    if (ctx.quotedDirty) { resetL34(rec.quoted); ctx.quotedDirty = false; }
  }

  private switchLinktype(linktype: number): void {
    this.linkCounts.set(this.lastLinktype, (this.linkCounts.get(this.lastLinktype) ?? 0) + this.lastLinkCount);
    this.lastLinktype = linktype;
    this.lastLinkCount = 0;
  }

  private countMalformed(reason: string, offset: number): void {
    const m = this.malformed.get(reason);
    if (m === undefined) this.malformed.set(reason, { count: 1, firstOffset: offset });
    else m.count++;
  }

  /** End of input: reports a cut-off last unit as malformed and returns the counts. */
  finish(): DecodeSummary {
    if (!this.finished) {
      this.finished = true;
      if (this.mode === Mode.START || this.mode === Mode.PCAP_HEADER) {
        throw new NetlabError(this.offset + this.carryLen === 0 ? 'the input is empty' : 'the input ends inside the file header', {
          where: this.where(this.offset + this.carryLen), hint: 'give a complete pcap or pcapng capture',
        });
      }
      // A capture stopped mid-write leaves a partial last record: common, and not worth refusing the rest.
      if (this.carryLen > 0 || this.skip > 0) this.countMalformed(this.mode === Mode.PCAP ? 'truncated-record' : 'truncated-block', this.offset);
      this.switchLinktype(-1);
    }
    const linktypes: Record<string, number> = {};
    for (const [lt, n] of this.linkCounts) if (lt >= 0 && n > 0) linktypes[linktypeName(lt)] = (linktypes[linktypeName(lt)] ?? 0) + n;
    const protocols: Record<string, number> = {};
    const counts = this.ctx.counts;
    COUNT_NAMES.forEach((name, i) => { if (counts[i] > 0) protocols[name] = counts[i]; });
    const malformed: DecodeSummary['malformed'] = {};
    for (const [k, v] of [...this.malformed].sort((a, b) => a[0].localeCompare(b[0]))) malformed[k] = { ...v };
    return {
      packets: this.packets,
      bytes: this.capturedBytes,
      inputBytes: this.offset + this.carryLen,
      container: this.mode === Mode.PCAP ? 'pcap' : this.mode === Mode.PCAPNG ? 'pcapng' : null,
      linktypes,
      protocols,
      ppv2Headers: (protocols['proxy-v2'] ?? 0) + (protocols['proxy-v1'] ?? 0),
      http: protocols.http ?? 0,
      malformed,
      interfaces: this.allIfaces.map((i) => ({ ...i })),
      firstTs: this.firstSec < 0 ? null : formatTs(this.firstSec, this.firstNsec),
      lastTs: this.packets === 0 ? null : formatTs(this.rec.tsSec, this.rec.tsNsec),
    };
  }
}

/** Seconds with 9 decimals, as CONTRACT.md's `ts`. */
export function formatTs(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}
