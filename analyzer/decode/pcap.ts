/** The classic pcap container: a 24-byte file header, then 16-byte record headers. */
import { NetlabError } from '../errors.js';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  snaplen: number;
  linktype: number;
}

/** Read the magic (as big-endian) and say whether it is a pcap one. */
export function isPcapMagic(magicBE: number): boolean {
  const swapped = ((magicBE & 0xff) << 24 | (magicBE & 0xff00) << 8 | (magicBE >>> 8) & 0xff00 | magicBE >>> 24) >>> 0;
  return magicBE === PCAP_MAGIC_USEC || magicBE === PCAP_MAGIC_NSEC || swapped === PCAP_MAGIC_USEC || swapped === PCAP_MAGIC_NSEC;
}

export function readPcapHeader(dv: DataView, off: number, where: string): PcapHeader {
  const magicBE = dv.getUint32(off);
  const littleEndian = magicBE !== PCAP_MAGIC_USEC && magicBE !== PCAP_MAGIC_NSEC;
  const magic = dv.getUint32(off, littleEndian);
  const major = dv.getUint16(off + 4, littleEndian);
  if (major !== 2) {
    throw new NetlabError(`pcap version ${major}.${dv.getUint16(off + 6, littleEndian)} is not 2.x`, {
      where: `${where}: byte ${off + 4}`,
      hint: 'the file header is damaged; re-capture or convert it with editcap',
    });
  }
  return {
    littleEndian,
    nanosecond: magic === PCAP_MAGIC_NSEC,
    snaplen: dv.getUint32(off + 16, littleEndian),
    // The upper bits of the link-type field carry FCS information, not the link type.
    linktype: dv.getUint32(off + 20, littleEndian) & 0xffff,
  };
}
