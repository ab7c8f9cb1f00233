/**
 * A small pcapng writer for the eBPF source: one Section Header, one Interface Description per
 * device (named `<namespace>:<device>`, nanosecond timestamps), and Enhanced Packet Blocks that
 * carry the direction (epb_flags) and the skb address as the packet id (epb_packetid: pcapng's
 * field for "the same packet seen on several interfaces"). Writes are batched into 1 MiB.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const BATCH = 1 << 20;

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

export class PcapngWriter {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(BATCH);
  private used = 0;
  private interfaces = 0;
  packets = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    this.sectionHeader();
  }

  private room(n: number): void {
    if (this.used + n > this.buf.length) this.flush();
  }

  flush(): void {
    if (this.used > 0) {
      writeSync(this.fd, this.buf, 0, this.used);
      this.used = 0;
    }
  }

  private sectionHeader(): void {
    const b = this.buf;
    let p = this.used;
    const len = 28;
    b.writeUInt32LE(SHB, p);
    b.writeUInt32LE(len, p + 4);
    b.writeUInt32LE(0x1a2b3c4d, p + 8);
    b.writeUInt16LE(1, p + 12);
    b.writeUInt16LE(0, p + 14);
    // section length unknown
    b.writeInt32LE(-1, p + 16);
    b.writeInt32LE(-1, p + 20);
    p += 24;
    b.writeUInt32LE(len, p);
    this.used = p + 4;
  }

  /** Adds an interface and returns its id for `packet`. */
  addInterface(name: string, description: string): number {
    const nameBytes = Buffer.from(name, 'utf8');
    const descBytes = Buffer.from(description, 'utf8');
    const optLen = 4 + pad4(nameBytes.length) + 4 + pad4(descBytes.length) + 4 + 4 + 4;
    const len = 20 + optLen;
    this.room(len);
    const b = this.buf;
    let p = this.used;
    b.writeUInt32LE(IDB, p);
    b.writeUInt32LE(len, p + 4);
    b.writeUInt16LE(1, p + 8); // LINKTYPE_ETHERNET
    b.writeUInt16LE(0, p + 10);
    b.writeUInt32LE(0, p + 12); // snaplen: unlimited
    p += 16;
    // if_name (2)
    b.writeUInt16LE(2, p);
    b.writeUInt16LE(nameBytes.length, p + 2);
    b.fill(0, p + 4, p + 4 + pad4(nameBytes.length));
    nameBytes.copy(b, p + 4);
    p += 4 + pad4(nameBytes.length);
    // if_description (3)
    b.writeUInt16LE(3, p);
    b.writeUInt16LE(descBytes.length, p + 2);
    b.fill(0, p + 4, p + 4 + pad4(descBytes.length));
    descBytes.copy(b, p + 4);
    p += 4 + pad4(descBytes.length);
    // if_tsresol (9) = 10^-9
    b.writeUInt16LE(9, p);
    b.writeUInt16LE(1, p + 2);
    b.writeUInt32LE(9, p + 4);
    p += 8;
    // opt_endofopt
    b.writeUInt32LE(0, p);
    p += 4;
    b.writeUInt32LE(len, p);
    this.used = p + 4;
    return this.interfaces++;
  }

  /**
   * One packet: `frame[0, caplen)`, nanoseconds since the epoch as sec + nsec, direction
   * (0 inbound, 1 outbound) and the skb address as packet id.
   */
  packet(ifaceId: number, tsSec: number, tsNsec: number, frame: Uint8Array, caplen: number, origLen: number, dir: 0 | 1, packetId: number): void {
    const optLen = 8 + 12 + 4;
    const len = 28 + pad4(caplen) + optLen + 4;
    this.room(len);
    const b = this.buf;
    let p = this.used;
    // 64-bit nanosecond timestamp = sec * 1e9 + nsec, split into 32-bit halves without BigInt.
    const secHi = Math.floor(tsSec / 4294967296);
    const secLo = tsSec - secHi * 4294967296;
    // (secHi*2^32 + secLo) * 1e9 + nsec: do the low half in two 16-bit pieces to stay exact.
    const loLo = (secLo & 0xffff) * 1e9 + tsNsec;
    const loHi = (secLo >>> 16) * 1e9;
    const low = loLo + (loHi % 65536) * 65536;
    const tsLow = low % 4294967296;
    const tsHigh = secHi * 1e9 + Math.floor(loHi / 65536) + Math.floor(low / 4294967296);
    b.writeUInt32LE(EPB, p);
    b.writeUInt32LE(len, p + 4);
    b.writeUInt32LE(ifaceId, p + 8);
    b.writeUInt32LE(tsHigh >>> 0, p + 12);
    b.writeUInt32LE(tsLow >>> 0, p + 16);
    b.writeUInt32LE(caplen, p + 20);
    b.writeUInt32LE(origLen, p + 24);
    p += 28;
    b.set(frame.subarray(0, caplen), p);
    b.fill(0, p + caplen, p + pad4(caplen));
    p += pad4(caplen);
    // epb_flags (2): direction bits 0-1: 01 inbound, 10 outbound
    b.writeUInt16LE(2, p);
    b.writeUInt16LE(4, p + 2);
    b.writeUInt32LE(dir === 1 ? 2 : 1, p + 4);
    p += 8;
    // epb_packetid (5): 64-bit
    b.writeUInt16LE(5, p);
    b.writeUInt16LE(8, p + 2);
    b.writeUInt32LE(packetId % 4294967296, p + 4);
    b.writeUInt32LE(Math.floor(packetId / 4294967296), p + 8);
    p += 12;
    b.writeUInt32LE(0, p);
    p += 4;
    b.writeUInt32LE(len, p);
    this.used = p + 4;
    this.packets++;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
