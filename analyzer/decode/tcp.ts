/**
 * TCP: ports, seq/ack, flags, window, options (MSS, window scale, timestamps); then what starts the
 * payload: a PROXY v1/v2 header (possibly split, see reassembly.ts), then HTTP/1.x.
 */
import { COUNT, DEPTH, setPayloadHash, type DecodeContext } from './context.js';
import { parseHttp } from './http.js';
import { PP, parseProxyHeader } from './proxy-protocol.js';
import type { L34Fields } from './record.js';

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_TIMESTAMP = 8;

export function decodeTcp(ctx: DecodeContext, off: number, capEnd: number, declEnd: number, f: L34Fields, depth: number): void {
  const b = ctx.bytes;
  const dv = ctx.dv;
  const avail = capEnd - off;
  if (depth === DEPTH.QUOTED) {
    // An ICMP error quotes at least 8 bytes of the original header (ports, sequence number), often more.
    if (avail < 4) return;
    ctx.counts[COUNT.TCP]++;
    f.sport = (b[off] << 8) | b[off + 1];
    f.dport = (b[off + 2] << 8) | b[off + 3];
    if (avail >= 8) f.seq = dv.getUint32(off + 4);
    if (avail >= 14) { f.ack = dv.getUint32(off + 8); f.tcpFlags = b[off + 13]; }
    return;
  }
  if (avail < 20) {
    ctx.fail('truncated-tcp');
    if (avail >= 4) { f.sport = (b[off] << 8) | b[off + 1]; f.dport = (b[off + 2] << 8) | b[off + 3]; }
    return;
  }
  ctx.counts[COUNT.TCP]++;
  f.sport = (b[off] << 8) | b[off + 1];
  f.dport = (b[off + 2] << 8) | b[off + 3];
  f.seq = dv.getUint32(off + 4);
  f.ack = dv.getUint32(off + 8);
  const hlen = (b[off + 12] >> 4) << 2;
  f.tcpFlags = b[off + 13];
  f.window = (b[off + 14] << 8) | b[off + 15];
  if (hlen < 20 || off + hlen > declEnd) { ctx.fail('bad-tcp-header'); return; }
  if (off + hlen > capEnd) { ctx.fail('truncated-tcp'); return; }
  const optStart = off + 20;
  // Linux puts NOP, NOP, timestamps in every segment after the handshake: read that layout directly.
  if (hlen === 32 && b[optStart] === OPT_NOP && b[optStart + 1] === OPT_NOP && b[optStart + 2] === OPT_TIMESTAMP && b[optStart + 3] === 10) {
    f.tsval = dv.getUint32(optStart + 4);
    f.tsecr = dv.getUint32(optStart + 8);
  } else for (let p = optStart, optEnd = off + hlen; p < optEnd; ) {
    const kind = b[p];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) { p++; continue; }
    if (p + 1 >= optEnd) { ctx.fail('bad-tcp-option'); break; }
    const len = b[p + 1];
    if (len < 2 || p + len > optEnd) { ctx.fail('bad-tcp-option'); break; }
    if (kind === OPT_MSS && len === 4) f.mss = (b[p + 2] << 8) | b[p + 3];
    else if (kind === OPT_WSCALE && len === 3) f.wscale = b[p + 2];
    else if (kind === OPT_TIMESTAMP && len === 10) { f.tsval = dv.getUint32(p + 2); f.tsecr = dv.getUint32(p + 6); }
    p += len;
  }
  const payloadOff = off + hlen;
  const captured = capEnd - payloadOff;
  f.payloadOffset = payloadOff;
  f.payloadLen = declEnd - payloadOff;
  f.payloadCaptured = captured;
  if (captured > 0) setPayloadHash(f, b, dv, payloadOff, captured);
  // Most payloads start with neither a PROXY header nor HTTP: test the first byte before calling out.
  const first = captured > 0 ? b[payloadOff] : -1;
  if (first === 0x0d || (first >= 0x41 && first <= 0x5a) || (ctx.reasm !== null && ctx.reasm.size > 0)) decodeStreamStart(ctx, f, payloadOff, captured);
}

/** PROXY header, then HTTP, at the start of the payload (or where a reassembled header ends). */
function decodeStreamStart(ctx: DecodeContext, f: L34Fields, off: number, captured: number): void {
  const b = ctx.bytes;
  const rec = ctx.rec;
  const reasm = ctx.reasm;
  let start = off;
  let avail = captured;
  const tracked = reasm !== null && reasm.size > 0 ? reasm.feed(ctx, f, off, captured) : -1;
  if (tracked >= 0) {
    start += tracked;
    avail -= tracked;
  } else if (captured > 0) {
    const r = parseProxyHeader(b, off, captured, rec.ppv2, captured < f.payloadLen);
    if (r > 0) {
      ctx.counts[rec.ppv2.version === 2 ? COUNT.PPV2 : COUNT.PPV1]++;
      start += r;
      avail -= r;
    } else if (r === PP.NEED_MORE) {
      // A header cut by the snap length cannot be continued; one cut by segmentation can.
      if (reasm !== null && captured === f.payloadLen) reasm.start(f, b, off, captured);
      else ctx.fail('proxy-header-incomplete');
      return;
    } else if (r === PP.BAD_V2) { ctx.fail('bad-proxy-v2'); return; }
    else if (r === PP.BAD_V1) { ctx.fail('bad-proxy-v1'); return; }
  }
  if (rec.ppv2.present && rec.ppv2.crcOk === 0) ctx.fail('proxy-v2-crc-mismatch');
  if (avail > 0 && parseHttp(b, start, start + avail, rec.http, ctx.dv)) ctx.counts[COUNT.HTTP]++;
}
