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

/** An enhanced packet block; `tsUnits` counts the interface's tsresol units since the epoch. */
export function enhancedPacket(interfaceId: number, tsUnits: bigint, data: Uint8Array, origLen: number, comments: readonly string[]): Buffer {
  const options = comments.map((c) => textOption(OPT_COMMENT, c));
  return block(EPB, 20 + data.length, options, (buf, at) => {
    buf.writeUInt32LE(interfaceId, at);
    buf.writeUInt32LE(Number(tsUnits >> 32n), at + 4);
    buf.writeUInt32LE(Number(tsUnits & 0xffffffffn), at + 8);
    buf.writeUInt32LE(data.length, at + 12);
    buf.writeUInt32LE(origLen, at + 16);
    buf.set(data, at + 20);
  });
}
