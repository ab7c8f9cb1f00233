/**
 * pcapng block encoding (little-endian, one section): SHB, IDB, EPB with options. Pure functions
 * returning bytes, so the layout is checked byte for byte in tests.
 */

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;

const pad4 = (n: number) => (4 - (n % 4)) % 4;

interface Option {
  code: number;
  value: Uint8Array;
}

function textOption(code: number, value: string): Option {
  return { code, value: Buffer.from(value, 'utf8') };
}

function optionsLength(options: Option[]): number {
  if (options.length === 0) return 0;
  return options.reduce((sum, o) => sum + 4 + o.value.length + pad4(o.value.length), 0) + 4;
}

function writeOptions(buf: Buffer, at: number, options: Option[]): number {
  if (options.length === 0) return at;
  for (const o of options) {
    buf.writeUInt16LE(o.code, at);
    buf.writeUInt16LE(o.value.length, at + 2);
    buf.set(o.value, at + 4);
    buf.fill(0, at + 4 + o.value.length, at + 4 + o.value.length + pad4(o.value.length));
    at += 4 + o.value.length + pad4(o.value.length);
  }
  buf.writeUInt16LE(OPT_END, at);
  buf.writeUInt16LE(0, at + 2);
  return at + 4;
}

/** A block: type, total length, body, options, total length again. */
function block(type: number, bodyLen: number, options: Option[], fillBody: (buf: Buffer, at: number) => void): Buffer {
  const total = 12 + bodyLen + pad4(bodyLen) + optionsLength(options);
  const buf = Buffer.alloc(total);
  buf.writeUInt32LE(type, 0);
  buf.writeUInt32LE(total, 4);
  fillBody(buf, 8);
  writeOptions(buf, 8 + bodyLen + pad4(bodyLen), options);
  buf.writeUInt32LE(total, total - 4);
  return buf;
}

export function sectionHeader(userAppl: string): Buffer {
  return block(SHB, 16, [textOption(SHB_USERAPPL, userAppl)], (buf, at) => {
    buf.writeUInt32LE(0x1a2b3c4d, at);
    buf.writeUInt16LE(1, at + 4);
    buf.writeUInt16LE(0, at + 6);
    // Section length unknown: the file is written as a stream.
    buf.writeBigInt64LE(-1n, at + 8);
  });
}

export interface InterfaceDescription {
  linktype: number;
  snaplen: number;
  name: string;
  description: string;
  /** Decimal exponent of the timestamp unit: 6 = microseconds, 9 = nanoseconds. */
  tsresolExp: number;
}

export function interfaceDescription(d: InterfaceDescription): Buffer {
  const options = [textOption(IF_NAME, d.name), textOption(IF_DESCRIPTION, d.description), { code: IF_TSRESOL, value: Uint8Array.of(d.tsresolExp) }];
  return block(IDB, 8, options, (buf, at) => {
    buf.writeUInt16LE(d.linktype, at);
    buf.writeUInt16LE(0, at + 2);
    buf.writeUInt32LE(d.snaplen, at + 4);
  });
}

/** Bytes of an enhanced packet block holding `dataLen` bytes and these comment options. */
export function enhancedPacketLength(dataLen: number, comments: readonly Uint8Array[]): number {
  const options = comments.length === 0 ? 0 : comments.reduce((sum, c) => sum + 4 + c.length + pad4(c.length), 0) + 4;
  return 32 + dataLen + pad4(dataLen) + options;
}

/**
 * Writes an enhanced packet block into `buf` at `at` (the merge loop's hot path: no allocation).
 * `tsHigh`/`tsLow` are the two 32-bit halves of the timestamp in the interface's tsresol units;
 * `comments` are UTF-8 opt_comment values. Returns the block's length.
 */
export function writeEnhancedPacket(buf: Buffer, at: number, interfaceId: number, tsHigh: number, tsLow: number, data: Uint8Array, origLen: number, comments: readonly Uint8Array[]): number {
  const total = enhancedPacketLength(data.length, comments);
  buf.writeUInt32LE(EPB, at);
  buf.writeUInt32LE(total, at + 4);
  buf.writeUInt32LE(interfaceId, at + 8);
  buf.writeUInt32LE(tsHigh, at + 12);
  buf.writeUInt32LE(tsLow, at + 16);
  buf.writeUInt32LE(data.length, at + 20);
  buf.writeUInt32LE(origLen, at + 24);
  buf.set(data, at + 28);
  let off = at + 28 + data.length;
  const pad = pad4(data.length);
  if (pad > 0) {
    buf.fill(0, off, off + pad);
    off += pad;
  }
  if (comments.length > 0) off = writeOptions(buf, off, comments.map((value) => ({ code: OPT_COMMENT, value })));
  buf.writeUInt32LE(total, off);
  return total;
}

/**
 * The two 32-bit halves of `sec * unitsPerSec + frac` (unitsPerSec ≤ 10^9, sec < 2^32), exact in
 * doubles: the product can pass 2^53, so it is built from 16-bit halves of `sec`.
 */
export function timestampHalves(sec: number, unitsPerSec: number, frac: number): [number, number] {
  const secHi = Math.floor(sec / 65536);
  const a = (sec % 65536) * unitsPerSec + frac;
  const b = secHi * unitsPerSec;
  const bHi = Math.floor(b / 65536);
  const c = (b % 65536) * 65536 + a;
  const carry = Math.floor(c / 4294967296);
  return [bHi + carry, c - carry * 4294967296];
}

/** An enhanced packet block; `tsUnits` counts the interface's tsresol units since the epoch. */
export function enhancedPacket(interfaceId: number, tsUnits: bigint, data: Uint8Array, origLen: number, comments: readonly string[]): Buffer {
  const encoded = comments.map((c) => Buffer.from(c, 'utf8'));
  const buf = Buffer.alloc(enhancedPacketLength(data.length, encoded));
  writeEnhancedPacket(buf, 0, interfaceId, Number(tsUnits >> 32n), Number(tsUnits & 0xffffffffn), data, origLen, encoded);
  return buf;
}
