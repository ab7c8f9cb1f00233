/**
 * Rebuilds an Ethernet frame from a probe event so the eBPF source can be written as pcapng and
 * read by the same decoder and by Wireshark. What the probe did not read is synthesised and says
 * so by being neutral: zero MAC addresses, no IPv4 options, no IP flags, TCP options limited to
 * the ones the probe decodes (MSS, SACK-permitted, timestamps, window scale) padded with NOPs, a
 * zero TCP/UDP checksum. The frame is truncated after the captured payload bytes; its original
 * length is the packet's real length.
 */
import type { EbpfEvent } from './events.js';
import { MAX_PAYLOAD_WORDS, MAX_REQUEST_HEAD_BYTES } from './program.js';

export const ETHERNET_HEADER_LEN = 14;
/** Most payload bytes an event carries: its own words plus an HTTP request head's `H` lines. */
export const MAX_EVENT_PAYLOAD = MAX_PAYLOAD_WORDS * 8 + MAX_REQUEST_HEAD_BYTES;
/** Largest frame this module writes: Ethernet + IPv6 + a 60-byte TCP header + the payload. */
export const MAX_SYNTH_FRAME = ETHERNET_HEADER_LEN + 40 + 60 + MAX_EVENT_PAYLOAD;

export interface SynthesizedFrame {
  /** Bytes written into `out`. */
  caplen: number;
  /** The packet's length on the wire (with the Ethernet header). */
  origLen: number;
  /** Offset of the payload inside `out`. */
  payloadOffset: number;
  /** Offset of the L3 header. */
  l3Offset: number;
}

function ipv4Checksum(b: Uint8Array, off: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[off + i] << 8) | b[off + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** TCP options in the order Linux writes them, as far as the header length allows. */
function tcpOptions(ev: EbpfEvent, b: Uint8Array, off: number, len: number): void {
  b.fill(0x01, off, off + len);
  const hasTs = ev.tsval !== 0 || ev.tsecr !== 0;
  if (ev.mss >= 0) {
    // SYN layout: MSS, SACK-permitted, timestamps, NOP, window scale.
    let p = off;
    if (p + 4 <= off + len) {
      b[p] = 2; b[p + 1] = 4; put16(b, p + 2, ev.mss);
      p += 4;
    }
    if (hasTs && p + 12 <= off + len) {
      b[p] = 4; b[p + 1] = 2; b[p + 2] = 8; b[p + 3] = 10;
      put32(b, p + 4, ev.tsval); put32(b, p + 8, ev.tsecr);
      p += 12;
    }
    if (ev.wscale >= 0 && p + 4 <= off + len) {
      b[p] = 1; b[p + 1] = 3; b[p + 2] = 3; b[p + 3] = ev.wscale;
    }
  } else if (hasTs && len >= 12) {
    b[off + 2] = 8; b[off + 3] = 10;
    put32(b, off + 4, ev.tsval); put32(b, off + 8, ev.tsecr);
  }
}

/** Write the frame for `ev` into `out` (at least MAX_SYNTH_FRAME bytes). */
export function synthesizeFrame(ev: EbpfEvent, out: Uint8Array): SynthesizedFrame {
  out.fill(0, 0, 12);
  const l3 = ETHERNET_HEADER_LEN;
  const l4Len = ev.proto === 6 ? Math.min(Math.max(ev.l4HeaderLen, 20), 60) : 8;
  const capPayload = Math.min(ev.capLen, MAX_EVENT_PAYLOAD);
  let l4: number;
  if (ev.family === 4) {
    put16(out, 12, 0x0800);
    const total = 20 + l4Len + ev.payloadLen;
    out[l3] = 0x45;
    out[l3 + 1] = 0;
    put16(out, l3 + 2, Math.min(total, 0xffff));
    put16(out, l3 + 4, ev.ipId);
    put16(out, l3 + 6, 0);
    out[l3 + 8] = ev.ttl;
    out[l3 + 9] = ev.proto;
    put16(out, l3 + 10, 0);
    put32(out, l3 + 12, ev.src4);
    put32(out, l3 + 16, ev.dst4);
    put16(out, l3 + 10, ipv4Checksum(out, l3));
    l4 = l3 + 20;
  } else {
    put16(out, 12, 0x86dd);
    put32(out, l3, 0x60000000);
    put16(out, l3 + 4, Math.min(l4Len + ev.payloadLen, 0xffff));
    out[l3 + 6] = ev.proto;
    out[l3 + 7] = ev.ttl;
    out.set(ev.src6, l3 + 8);
    out.set(ev.dst6, l3 + 24);
    l4 = l3 + 40;
  }
  put16(out, l4, ev.sport);
  put16(out, l4 + 2, ev.dport);
  if (ev.proto === 6) {
    put32(out, l4 + 4, ev.seq);
    put32(out, l4 + 8, ev.ack);
    out[l4 + 12] = (l4Len / 4) << 4;
    out[l4 + 13] = ev.tcpFlags;
    put16(out, l4 + 14, ev.window);
    put32(out, l4 + 16, 0);
    tcpOptions(ev, out, l4 + 20, l4Len - 20);
  } else {
    put16(out, l4 + 4, Math.min(8 + ev.payloadLen, 0xffff));
    put16(out, l4 + 6, 0);
  }
  const payloadOffset = l4 + l4Len;
  out.set(ev.payload.subarray(0, capPayload), payloadOffset);
  return {
    caplen: payloadOffset + capPayload,
    origLen: payloadOffset + ev.payloadLen,
    payloadOffset,
    l3Offset: l3,
  };
}
