/**
 * Parses the probe's output (program.ts describes the line format) straight from the bytes
 * bpftrace writes: no string per line, no split, one reused event object. Lines that are not
 * events are sorted into ready / lost-events / other so the caller can report them.
 */

import type { L34Fields } from '../../../analyzer/decode/record.js';
import { READY_MARKER, REQUEST_METHOD_WORDS } from './program.js';

export const DIR = { RX: 0, TX: 1 } as const;

const READY_PREFIX = `${READY_MARKER} `;

/**
 * The header fields an event shares, name for name, with the decoder's packet record (except that
 * tsval/tsecr are 0, not -1, when the probe saw no timestamp option).
 */
type SharedFields = 'src4' | 'dst4' | 'src6' | 'dst6' | 'proto' | 'sport' | 'dport' | 'ipId' | 'ttl' | 'seq' | 'ack' | 'tcpFlags' | 'window' | 'tsval' | 'tsecr' | 'mss' | 'wscale' | 'payloadLen';

/** One packet seen on one device. Mutable and reused: copy what you keep. */
export interface EbpfEvent extends Pick<L34Fields, SharedFields> {
  family: 4 | 6;
  /** CLOCK_MONOTONIC time of the tracepoint, split so it stays exact past 104 days of uptime. */
  monoSec: number;
  monoNsec: number;
  netnsInode: number;
  ifindex: number;
  /** Device name as the kernel named it in that namespace. */
  dev: string;
  dir: 0 | 1;
  /** The skb's address, low 48 bits (the top 16 bits of a kernel address are all ones). */
  skb: number;
  /** Whole IP packet length from the header (IPv4 total length, IPv6 payload length + 40). */
  ipLen: number;
  ipHeaderLen: number;
  l4HeaderLen: number;
  /** Payload bytes captured, valid in `payload[0..capLen)`. */
  capLen: number;
  payload: Uint8Array;
}

function startsRequest(p: Uint8Array): boolean {
  return REQUEST_METHOD_WORDS.includes((p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0);
}

export function createEvent(payloadWords: number): EbpfEvent {
  return {
    family: 4, monoSec: 0, monoNsec: 0, netnsInode: 0, ifindex: 0, dev: '', dir: 0, skb: 0,
    src4: 0, dst4: 0, src6: new Uint8Array(16), dst6: new Uint8Array(16),
    proto: 0, sport: 0, dport: 0, ipId: 0, ttl: 0, ipLen: 0, ipHeaderLen: 0,
    seq: 0, ack: 0, tcpFlags: 0, l4HeaderLen: 0, window: 0, tsval: 0, tsecr: 0, mss: -1, wscale: -1,
    payloadLen: 0, capLen: 0, payload: new Uint8Array(payloadWords * 8),
  };
}

export type LineKind = 'event' | 'head' | 'netns' | 'ready' | 'lost' | 'other';

const SPACE = 0x20;
const NL = 0x0a;

/** Hex digit value per byte, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x61 + i] = 10 + i;
  HEX[0x41 + i] = 10 + i;
}

const bswap16 = (v: number) => ((v & 0xff) << 8) | (v >>> 8);
const bswap32 = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/**
 * Stateful parser over chunks of probe output. Field values are read into `hi`/`lo` 32-bit halves
 * so 64-bit hex (timestamps, skb addresses, payload words) needs no BigInt.
 */
export class EventLineParser {
  readonly event: EbpfEvent;
  /** Counters across everything pushed so far. */
  events = 0;
  lost = 0;
  malformed = 0;
  readyMonoNs: bigint | null = null;
  /** Up to 5 non-event lines (bpftrace warnings/errors), for error messages. */
  readonly otherLines: string[] = [];
  /** Namespaces the probe learned while running (`N` lines): inode → `ip netns` name. */
  readonly learned = new Map<number, string>();

  private readonly words: number;
  private readonly headBytes: number;
  /**
   * Request-head bytes (`H` lines) waiting for their event line, by namespace, device, direction
   * and skb; each event line takes its own. Entries whose event line was lost are dropped when
   * too many wait.
   */
  private readonly heads = new Map<string, { bytes: Uint8Array; len: number }>();
  private carry: Buffer | null = null;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private hi = 0;
  private lo = 0;
  private readonly lastDev = new Uint8Array(16);
  private lastDevLen = 0;

  constructor(payloadWords: number, requestHeadBytes = 0) {
    this.words = payloadWords;
    this.headBytes = requestHeadBytes;
    this.event = createEvent(payloadWords + requestHeadBytes / 8);
  }

  /** Feed output; `onEvent` runs for each complete event line with the reused event. */
  push(chunk: Buffer, onEvent: (ev: EbpfEvent) => void): void {
    let data = chunk;
    let start = 0;
    if (this.carry) {
      // Only the line split across chunks is copied, not the whole chunk.
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        data = Buffer.concat([this.carry, chunk]);
      } else {
        const joined = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
        if (this.line(joined, 0, joined.length) === 'event') onEvent(this.event);
        start = nl + 1;
      }
      this.carry = null;
    }
    for (;;) {
      const nl = data.indexOf(NL, start);
      if (nl < 0) break;
      if (this.line(data, start, nl) === 'event') onEvent(this.event);
      start = nl + 1;
    }
    if (start < data.length) {
      this.carry = Buffer.from(data.subarray(start));
      // The ready line is padded past bpftrace's output buffer, so its newline arrives only with
      // the next flush: recognise the marker before the line ends.
      if (this.readyMonoNs === null && this.carry.length > READY_PREFIX.length + 2) this.ready(this.carry.toString('latin1', 0, 64));
    }
  }

  private ready(text: string): boolean {
    if (!text.startsWith(READY_PREFIX)) return false;
    const m = /^[0-9a-f]+ /.exec(text.slice(READY_PREFIX.length));
    if (m && this.readyMonoNs === null) this.readyMonoNs = BigInt(`0x${m[0].trim()}`);
    return true;
  }

  /** The output ended: a last line without newline is still a line. */
  finish(onEvent: (ev: EbpfEvent) => void): void {
    if (this.carry && this.carry.length > 0) {
      const data = this.carry;
      this.carry = null;
      if (this.line(data, 0, data.length) === 'event') onEvent(this.event);
    }
  }

  /** Classify and parse one line `data[start, end)`. */
  line(data: Uint8Array, start: number, end: number): LineKind {
    if (end > start && data[end - 1] === 0x0d) end--;
    if (end - start < 2) return 'other';
    const c0 = data[start];
    if ((c0 === 0x34 || c0 === 0x36) && data[start + 1] === SPACE) {
      this.buf = data;
      this.pos = start + 2;
      this.end = end;
      if (this.parseEvent(c0 === 0x34 ? 4 : 6)) {
        this.events++;
        return 'event';
      }
      this.malformed++;
      this.note(data, start, end);
      return 'other';
    }
    if (c0 === 0x48 && data[start + 1] === SPACE) return this.headLine(data, start, end);
    const text = Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('latin1');
    if (this.ready(text)) return 'ready';
    const learned = /^N ([0-9a-f]+) \/run\/netns\/(\S+)$/.exec(text);
    if (learned) {
      this.learned.set(parseInt(learned[1]!, 16), learned[2]!);
      return 'netns';
    }
    const lost = /^Lost (\d+) events/.exec(text);
    if (lost) {
      this.lost += Number(lost[1]);
      return 'lost';
    }
    if (text.trim()) this.note(data, start, end);
    return 'other';
  }

  private note(data: Uint8Array, start: number, end: number): void {
    if (this.otherLines.length < 5) {
      this.otherLines.push(Buffer.from(data.buffer, data.byteOffset + start, Math.min(end - start, 200)).toString('latin1'));
    }
  }

  /** `H NETNS IFINDEX DIR SKB OFFSET W0..W7`: 64 request-head bytes at OFFSET of the payload. */
  private headLine(data: Uint8Array, start: number, end: number): LineKind {
    this.buf = data;
    this.pos = start + 2;
    this.end = end;
    const first = this.words * 8;
    const ok = (() => {
      if (!this.field()) return null;
      const ns = this.lo;
      if (!this.field()) return null;
      const ifindex = this.lo;
      const dirChar = data[this.pos];
      if (!this.direction()) return null;
      if (!this.field()) return null;
      const key = `${ns} ${ifindex} ${dirChar} ${(this.hi & 0xffff) * 4294967296 + this.lo}`;
      if (!this.field()) return null;
      const offset = this.lo - first;
      if (offset < 0 || offset % 64 !== 0 || offset + 64 > this.headBytes) return null;
      let head = this.heads.get(key);
      if (!head) {
        if (this.heads.size >= 1024) this.heads.clear();
        head = { bytes: new Uint8Array(this.headBytes), len: 0 };
        this.heads.set(key, head);
      }
      for (let w = 0; w < 8; w++) {
        if (!this.field()) return null;
        this.bytes8(head.bytes, offset + w * 8);
      }
      // H lines of one packet come in order; a gap means one was lost.
      if (head.len === offset) head.len = offset + 64;
      return this.pos >= this.end;
    })();
    if (ok) return 'head';
    this.malformed++;
    this.note(data, start, end);
    return 'other';
  }

  /** Moves the request head printed before this event line (if any) behind its payload words. */
  private takeHead(ev: EbpfEvent, dirChar: number, avail: number): void {
    const key = `${ev.netnsInode} ${ev.ifindex} ${dirChar} ${ev.skb}`;
    const head = this.heads.get(key);
    if (!head) return;
    this.heads.delete(key);
    const first = this.words * 8;
    ev.payload.set(head.bytes.subarray(0, head.len), first);
    ev.capLen = Math.min(avail, ev.payloadLen, first + head.len);
  }

  /** Reads one hex field into hi/lo; false at end of line or on a bad digit. */
  private field(): boolean {
    const b = this.buf;
    let p = this.pos;
    const e = this.end;
    if (p >= e) return false;
    let hi = 0;
    let lo = 0;
    let n = 0;
    while (p < e) {
      const c = b[p];
      if (c === SPACE) break;
      const d = HEX[c];
      if (d < 0) return false;
      // shift the 64-bit value left by 4 bits
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
      p++;
      n++;
    }
    if (n === 0 || n > 16) return false;
    this.hi = hi;
    this.lo = lo;
    this.pos = p + 1;
    return true;
  }

  /** The device name field: a new string only when it differs from the previous event's. */
  private devName(): boolean {
    const b = this.buf;
    const s = this.pos;
    let p = s;
    while (p < this.end && b[p] !== SPACE) p++;
    const len = p - s;
    if (len === 0 || len > 16) return false;
    this.pos = p + 1;
    const last = this.lastDev;
    let same = len === this.lastDevLen;
    for (let i = 0; same && i < len; i++) same = last[i] === b[s + i];
    if (!same) {
      last.set(b.subarray(s, p));
      this.lastDevLen = len;
      this.event.dev = Buffer.from(b.buffer, b.byteOffset + s, len).toString('latin1');
    }
    return true;
  }

  /** The direction field: `r` or `t`. */
  private direction(): boolean {
    const b = this.buf;
    const p = this.pos;
    if (p + 1 >= this.end || b[p + 1] !== SPACE) return false;
    this.pos = p + 2;
    if (b[p] === 0x72) this.event.dir = DIR.RX;
    else if (b[p] === 0x74) this.event.dir = DIR.TX;
    else return false;
    return true;
  }

  /** Writes the 64-bit little-endian-loaded value in hi/lo as 8 bytes at out[off]. */
  private bytes8(out: Uint8Array, off: number): void {
    const lo = this.lo;
    const hi = this.hi;
    out[off] = lo & 0xff;
    out[off + 1] = (lo >>> 8) & 0xff;
    out[off + 2] = (lo >>> 16) & 0xff;
    out[off + 3] = lo >>> 24;
    out[off + 4] = hi & 0xff;
    out[off + 5] = (hi >>> 8) & 0xff;
    out[off + 6] = (hi >>> 16) & 0xff;
    out[off + 7] = hi >>> 24;
  }

  private parseEvent(family: 4 | 6): boolean {
    const ev = this.event;
    ev.family = family;
    if (!this.field()) return false;
    // hi*2^32 + lo nanoseconds → seconds + nanoseconds without losing precision.
    const hiNs = this.hi * 4294967296;
    const secFromHi = Math.floor(hiNs / 1e9);
    const nsFromHi = hiNs - secFromHi * 1e9;
    const ns = nsFromHi + this.lo;
    ev.monoSec = secFromHi + Math.floor(ns / 1e9);
    ev.monoNsec = ns % 1e9;
    if (!this.field()) return false;
    ev.netnsInode = this.lo;
    if (!this.field()) return false;
    ev.ifindex = this.lo;
    if (!this.devName()) return false;
    const dirChar = this.buf[this.pos]!;
    if (!this.direction()) return false;
    if (!this.field()) return false;
    ev.skb = (this.hi & 0xffff) * 4294967296 + this.lo;
    if (family === 4) {
      if (!this.field()) return false;
      ev.src4 = bswap32(this.lo);
      if (!this.field()) return false;
      ev.dst4 = bswap32(this.lo);
    } else {
      if (!this.field()) return false;
      this.bytes8(ev.src6, 0);
      if (!this.field()) return false;
      this.bytes8(ev.src6, 8);
      if (!this.field()) return false;
      this.bytes8(ev.dst6, 0);
      if (!this.field()) return false;
      this.bytes8(ev.dst6, 8);
    }
    if (!this.field()) return false;
    ev.proto = this.lo;
    if (!this.field()) return false;
    ev.sport = bswap16(this.lo & 0xffff);
    if (!this.field()) return false;
    ev.dport = bswap16(this.lo & 0xffff);
    if (!this.field()) return false;
    ev.ipId = bswap16(this.lo & 0xffff);
    if (!this.field()) return false;
    ev.ttl = this.lo;
    if (!this.field()) return false;
    const len = bswap16(this.lo & 0xffff);
    if (!this.field()) return false;
    ev.ipHeaderLen = this.lo;
    ev.ipLen = family === 4 ? len : len + 40;
    if (!this.field()) return false;
    ev.seq = bswap32(this.lo);
    if (!this.field()) return false;
    ev.ack = bswap32(this.lo);
    if (!this.field()) return false;
    ev.tcpFlags = this.lo;
    if (!this.field()) return false;
    ev.l4HeaderLen = this.lo;
    if (!this.field()) return false;
    ev.window = bswap16(this.lo & 0xffff);
    if (!this.field()) return false;
    ev.tsval = bswap32(this.lo);
    if (!this.field()) return false;
    ev.tsecr = bswap32(this.lo);
    if (!this.field()) return false;
    const mss = bswap16(this.lo & 0xffff);
    ev.mss = mss === 0 ? -1 : mss;
    if (!this.field()) return false;
    ev.wscale = this.lo === 0xff ? -1 : this.lo;
    if (!this.field()) return false;
    const avail = this.lo;
    ev.payloadLen = Math.max(0, ev.ipLen - ev.ipHeaderLen - ev.l4HeaderLen);
    ev.capLen = Math.min(avail, ev.payloadLen, this.words * 8);
    for (let w = 0; w < this.words; w++) {
      if (!this.field()) return false;
      this.bytes8(ev.payload, w * 8);
    }
    // The probe prints H lines only under this condition: other events skip the lookup (and its key string).
    if (this.heads.size > 0 && avail > this.words * 8 && (this.words === 0 || startsRequest(ev.payload))) this.takeHead(ev, dirChar, avail);
    return this.pos >= this.end;
  }
}
