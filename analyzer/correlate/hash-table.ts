/**
 * An open-addressing hash table from a 64-bit key (two 32-bit halves) to a non-negative int32,
 * kept in typed arrays so the correlator's hot loop looks packets up without allocating.
 * Linear probing with backward-shift deletion (no tombstones, so long captures do not degrade).
 */
export class U64Table {
  /**
   * Slot i holds key halves at [4i], [4i+1] and the value at [4i+2] (-1: empty), side by side so a
   * probe touches one cache line, not three arrays.
   */
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.slots = U64Table.empty(cap);
    this.mask = cap - 1;
  }

  private static empty(cap: number): Int32Array {
    const s = new Int32Array(cap * 4);
    for (let i = 2; i < s.length; i += 4) s[i] = -1;
    return s;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** The value for (a, b), or -1. */
  get(a: number, b: number): number {
    const { slots, mask } = this;
    const ka = a | 0;
    const kb = b | 0;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    while (true) {
      const o = i << 2;
      const v = slots[o + 2]!;
      if (v < 0) return -1;
      if (slots[o] === ka && slots[o + 1] === kb) return v;
      i = (i + 1) & mask;
    }
  }

  /** Insert or overwrite. `v` must be >= 0. */
  set(a: number, b: number, v: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const { slots, mask } = this;
    const ka = a | 0;
    const kb = b | 0;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    while (true) {
      const o = i << 2;
      if (slots[o + 2]! < 0) {
        slots[o] = ka;
        slots[o + 1] = kb;
        slots[o + 2] = v;
        this.size++;
        return;
      }
      if (slots[o] === ka && slots[o + 1] === kb) {
        slots[o + 2] = v;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** Remove (a, b); returns whether it was present. */
  delete(a: number, b: number): boolean {
    const { slots, mask } = this;
    const ka = a | 0;
    const kb = b | 0;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    while (true) {
      const o = i << 2;
      if (slots[o + 2]! < 0) return false;
      if (slots[o] === ka && slots[o + 1] === kb) break;
      i = (i + 1) & mask;
    }
    // Backward shift: move later members of the probe run into the hole so lookups still find them.
    let hole = i;
    let j = i;
    while (true) {
      j = (j + 1) & mask;
      const oj = j << 2;
      if (slots[oj + 2]! < 0) break;
      const home = (slots[oj]! ^ Math.imul(slots[oj + 1]!, 0x9e3779b1)) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        const oh = hole << 2;
        slots[oh] = slots[oj]!;
        slots[oh + 1] = slots[oj + 1]!;
        slots[oh + 2] = slots[oj + 2]!;
        hole = j;
      }
    }
    slots[(hole << 2) + 2] = -1;
    this.size--;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.slots = U64Table.empty(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let o = 0; o < old.length; o += 4) if (old[o + 2]! >= 0) this.set(old[o]!, old[o + 1]!, old[o + 2]!);
  }
}

/** 32-bit hash mixing (murmur3 style) for building keys from several numbers without strings. */
export function mix(h: number, v: number): number {
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a 32 over bytes[off, off+len). */
export function fnv1a(bytes: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off, end = off + len; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
