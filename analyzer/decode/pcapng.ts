/**
 * pcapng: sections (SHB), interfaces (IDB: link type, if_name, if_description, if_tsresol,
 * if_tsoffset), packets (EPB, SPB, obsolete PB). Interface state lives outside the block parser
 * because every packet block refers to it by id.
 */
import { NetlabError } from '../errors.js';

export const BLOCK = { SHB: 0x0a0d0d0a, IDB: 1, PB: 2, SPB: 3, NRB: 4, ISB: 5, EPB: 6 } as const;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_END = 0;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

export interface InterfaceInfo {
  /** Interface id inside its section. */
  id: number;
  /** 0-based section number (pcapng files may hold several). */
  section: number;
  linktype: number;
  name: string | null;
  description: string | null;
  /** Nanoseconds per timestamp unit (1000 for microseconds, 1 for nanoseconds, 0.95… for 2^-20). */
  tsresolNs: number;
}

export interface InterfaceState {
  info: InterfaceInfo;
  linktype: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  /** Whole nanoseconds per unit when that is exact (decimal resolutions up to 1 ns), else 0. */
  nsPerUnit: number;
  tsOffsetSec: number;
  /** The last timestamp high word seen and its value split into seconds and leftover units. */
  lastHi: number;
  lastHiSec: number;
  lastHiRem: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Parse an IDB whose body is b[off, off+len) (len = the block's total length). */
export function readIdb(dv: DataView, b: Uint8Array, off: number, len: number, le: boolean, id: number, section: number, where: string): InterfaceState {
  if (len < 20) throw new NetlabError(`interface description block of ${len} bytes is shorter than 20`, { where: `${where}: byte ${off}`, hint: 'the file is damaged' });
  const linktype = dv.getUint16(off + 8, le);
  const snaplen = dv.getUint32(off + 12, le);
  let name: string | null = null;
  let description: string | null = null;
  let resol = 6;
  let tsOffsetSec = 0;
  for (let p = off + 16, end = off + len - 4; p + 4 <= end; ) {
    const code = dv.getUint16(p, le);
    const olen = dv.getUint16(p + 2, le);
    const v = p + 4;
    if (code === OPT_END || v + olen > end) break;
    if (code === IF_NAME) name = utf8.decode(b.subarray(v, v + olen)).replace(/\0+$/, '');
    else if (code === IF_DESCRIPTION) description = utf8.decode(b.subarray(v, v + olen)).replace(/\0+$/, '');
    else if (code === IF_TSRESOL && olen >= 1) resol = b[v];
    else if (code === IF_TSOFFSET && olen >= 8) tsOffsetSec = Number(dv.getBigInt64(v, le));
    p = v + ((olen + 3) & ~3);
  }
  // if_tsresol: high bit clear = 10^-n, set = 2^-n seconds per unit.
  const exp = resol & 0x7f;
  const binary = (resol & 0x80) !== 0;
  if ((binary && exp > 52) || (!binary && exp > 15)) {
    throw new NetlabError(`if_tsresol 0x${resol.toString(16)} is beyond what timestamps can hold`, { where: `${where}: byte ${off}`, hint: 'the file is damaged' });
  }
  const unitsPerSec = binary ? 2 ** exp : 10 ** exp;
  const nsPerUnit = !binary && exp <= 9 ? 10 ** (9 - exp) : 0;
  return {
    info: { id, section, linktype, name, description, tsresolNs: 1e9 / unitsPerSec },
    linktype,
    snaplen,
    unitsPerSec,
    nsPerUnit,
    tsOffsetSec,
    lastHi: -1,
    lastHiSec: 0,
    lastHiRem: 0,
  };
}

/**
 * Split a 64-bit timestamp (hi:lo units) into seconds and nanoseconds without losing precision:
 * nanosecond timestamps exceed 2^53. The high word changes only every 2^32 units (4.3 s in
 * nanoseconds), so hi·2^32 is divided once per change, in 16-bit limbs, and each packet costs one
 * division of a number below 2^33. Writes into out[0], out[1]. `hi` and `lo` may be passed as
 * signed 32-bit words (the decoder does: a signed word is a small integer, an unsigned one above
 * 2^31 is boxed in a fresh heap number at every call).
 */
export function splitTimestamp(hiWord: number, loWord: number, iface: InterfaceState, out: Float64Array): void {
  const hi = hiWord >>> 0;
  const lo = loWord >>> 0;
  const div = iface.unitsPerSec;
  let sec: number;
  let rem: number;
  if (hi < 0x200000) {
    const ts = hi * 4294967296 + lo;
    sec = Math.floor(ts / div);
    rem = ts - sec * div;
  } else if (div <= 0x7fffffff) {
    if (hi !== iface.lastHi) {
      let r = 0;
      let q = 0;
      let hs = 0;
      for (const limb of [hi >>> 16, hi & 0xffff, 0, 0]) {
        const cur = r * 65536 + limb;
        q = Math.floor(cur / div);
        r = cur - q * div;
        hs = hs * 65536 + q;
      }
      iface.lastHi = hi;
      iface.lastHiSec = hs;
      iface.lastHiRem = r;
    }
    const low = iface.lastHiRem + lo;
    const extra = Math.floor(low / div);
    sec = iface.lastHiSec + extra;
    rem = low - extra * div;
  } else {
    const ts = (BigInt(hi) << 32n) | BigInt(lo);
    const d = BigInt(div);
    sec = Number(ts / d);
    rem = Number(ts % d);
  }
  out[0] = sec + iface.tsOffsetSec;
  out[1] = iface.nsPerUnit > 0 ? rem * iface.nsPerUnit : Math.floor((rem * 1e9) / div);
}
