/**
 * HTTP/1.x at the start of a TCP payload: the request line or status line, Host, X-Forwarded-For,
 * X-Real-IP, and in responses the echo server's `client_address` (`client_address=X`, `: X` or
 * JSON `"client_address":"X"`). Everything is found as offsets into the payload; no strings.
 */
import type { HttpRecord } from './record.js';

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const HTTP_VERSION = bytesOf('HTTP/1.');
const HOST = bytesOf('host:');
const XFF = bytesOf('x-forwarded-for:');
const X_REAL_IP = bytesOf('x-real-ip:');
const CLIENT_ADDRESS = bytesOf('client_address');
/** Longest method we accept (OPTIONS, CONNECT are 7; leave room for extensions). */
const MAX_METHOD = 12;

function equalsAt(b: Uint8Array, off: number, end: number, want: Uint8Array): boolean {
  if (end - off < want.length) return false;
  for (let i = 0; i < want.length; i++) if (b[off + i] !== want[i]) return false;
  return true;
}

/** Case-insensitive match of a lowercase header name (with its colon). */
function headerIs(b: Uint8Array, off: number, end: number, lower: Uint8Array): boolean {
  if (end - off < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = b[off + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower[i]) return false;
  }
  return true;
}

/**
 * Index of the next LF in b[off, end), or end. Four bytes per step (a SWAR "has byte" test on a
 * 32-bit word) then byte by byte: about twice the speed of a plain byte loop on header lines.
 */
function lineEnd(b: Uint8Array, dv: DataView, off: number, end: number): number {
  let i = off;
  for (; end - i >= 4; i += 4) {
    const x = dv.getUint32(i, true) ^ 0x0a0a0a0a;
    if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
  }
  for (; i < end; i++) if (b[i] === 0x0a) return i;
  return end;
}

const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function resetHttp(h: HttpRecord): void {
  h.present = false; h.isRequest = false; h.methodOff = -1; h.methodLen = 0; h.pathOff = -1; h.pathLen = 0;
  h.status = -1; h.hostOff = -1; h.hostLen = 0; h.xffOff = -1; h.xffLen = 0; h.xRealIpOff = -1; h.xRealIpLen = 0;
  h.clientAddrOff = -1; h.clientAddrLen = 0;
}

/**
 * Returns true (and fills `h`) when b[off, end) starts with an HTTP/1.x request or response.
 * `dv` views the same bytes as `b` (the decoder passes its per-chunk view; omitted, one is made).
 */
export function parseHttp(b: Uint8Array, off: number, end: number, h: HttpRecord, dv: DataView = viewOf(b)): boolean {
  if (end - off < 8) return false;
  const first = b[off];
  let headersFrom: number;
  if (first === 0x48 && equalsAt(b, off, end, HTTP_VERSION)) {
    // "HTTP/1.x NNN reason"
    if (end - off < 12 || b[off + 8] !== 0x20) return false;
    const d0 = b[off + 9] - 0x30, d1 = b[off + 10] - 0x30, d2 = b[off + 11] - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return false;
    resetHttp(h);
    h.status = d0 * 100 + d1 * 10 + d2;
    h.isRequest = false;
    headersFrom = lineEnd(b, dv, off, end) + 1;
  } else {
    if (first < 0x41 || first > 0x5a) return false;
    let sp = off;
    const methodLimit = end - off < MAX_METHOD ? end : off + MAX_METHOD;
    while (sp < methodLimit && b[sp] >= 0x41 && b[sp] <= 0x5a) sp++;
    if (sp >= methodLimit || b[sp] !== 0x20) return false;
    const le = lineEnd(b, dv, sp, end);
    let lineStop = le > off && b[le - 1] === 0x0d ? le - 1 : le;
    // The line must end in " HTTP/1.x".
    if (lineStop - sp < 10 || !equalsAt(b, lineStop - 8, lineStop, HTTP_VERSION) || b[lineStop - 9] !== 0x20) return false;
    lineStop -= 9;
    resetHttp(h);
    h.isRequest = true;
    h.methodOff = off;
    h.methodLen = sp - off;
    h.pathOff = sp + 1;
    h.pathLen = lineStop - sp - 1;
    headersFrom = le + 1;
  }
  h.present = true;
  let p = headersFrom;
  while (p < end) {
    const le = lineEnd(b, dv, p, end);
    const stop = le > p && b[le - 1] === 0x0d ? le - 1 : le;
    if (stop === p) { p = le + 1; break; } // blank line: end of headers
    const c = b[p] | 0x20;
    if (c === 0x68 && headerIs(b, p, stop, HOST)) setValue(b, p + HOST.length, stop, h, 'host');
    else if (c === 0x78 && headerIs(b, p, stop, XFF)) setValue(b, p + XFF.length, stop, h, 'xff');
    else if (c === 0x78 && headerIs(b, p, stop, X_REAL_IP)) setValue(b, p + X_REAL_IP.length, stop, h, 'xRealIp');
    p = le + 1;
  }
  if (!h.isRequest) findClientAddress(b, headersFrom, end, h);
  return true;
}

function setValue(b: Uint8Array, from: number, to: number, h: HttpRecord, which: 'host' | 'xff' | 'xRealIp'): void {
  let s = from;
  let e = to;
  while (s < e && (b[s] === 0x20 || b[s] === 0x09)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
  if (which === 'host') { h.hostOff = s; h.hostLen = e - s; }
  else if (which === 'xff') { h.xffOff = s; h.xffLen = e - s; }
  else { h.xRealIpOff = s; h.xRealIpLen = e - s; }
}

function isAddressChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || c === 0x2e || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Horspool shifts for "client_address": how far the window may move given its last byte. */
const CLIENT_ADDRESS_SHIFT = (() => {
  const m = CLIENT_ADDRESS.length;
  const t = new Uint8Array(256).fill(m);
  for (let i = 0; i < m - 1; i++) t[CLIENT_ADDRESS[i]] = m - 1 - i;
  return t;
})();

function findClientAddress(b: Uint8Array, from: number, end: number, h: HttpRecord): void {
  const m = CLIENT_ADDRESS.length;
  const lastByte = CLIENT_ADDRESS[m - 1];
  // Horspool search: a response body is scanned in strides of up to 14 bytes instead of byte by byte.
  for (let i = from; i <= end - m; i += CLIENT_ADDRESS_SHIFT[b[i + m - 1]]) {
    if (b[i + m - 1] !== lastByte || !equalsAt(b, i, end, CLIENT_ADDRESS)) continue;
    let v = i + m;
    // Separators seen in echo servers: "=", ": ", '":"'.
    while (v < end && (b[v] === 0x3d || b[v] === 0x3a || b[v] === 0x20 || b[v] === 0x22 || b[v] === 0x09)) v++;
    let e = v;
    while (e < end && isAddressChar(b[e])) e++;
    if (e > v) { h.clientAddrOff = v; h.clientAddrLen = e - v; }
    return;
  }
}
