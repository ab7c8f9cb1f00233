/**
 * An open-addressing hash table from a 64-bit key (two 32-bit halves) to a non-negative int32,
 * kept in typed arrays so the correlator's hot loop looks packets up without allocating.
 * Linear probing with backward-shift deletion (no tombstones, so long captures do not degrade).
 */
export class U64Table {
  private k1: Uint32Array;
  private k2: Uint32Array;
  /** -1 marks an empty slot. */
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.k1 = new Uint32Array(cap);
    this.k2 = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** The value for (a, b), or -1. */
  get(a: number, b: number): number {
    const { k1, k2, vals, mask } = this;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    while (true) {
      const v = vals[i]!;
      if (v < 0) return -1;
      if (k1[i] === a && k2[i] === b) return v;
      i = (i + 1) & mask;
    }
  }

  /** Insert or overwrite. `v` must be >= 0. */
  set(a: number, b: number, v: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const { k1, k2, vals, mask } = this;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    while (true) {
      if (vals[i]! < 0) {
        k1[i] = a;
        k2[i] = b;
        vals[i] = v;
        this.size++;
        return;
      }
      if (k1[i] === a && k2[i] === b) {
        vals[i] = v;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** Remove (a, b); returns whether it was present. */
  delete(a: number, b: number): boolean {
    const { k1, k2, vals, mask } = this;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    while (true) {
      if (vals[i]! < 0) return false;
      if (k1[i] === a && k2[i] === b) break;
      i = (i + 1) & mask;
    }
    // Backward shift: move later members of the probe run into the hole so lookups still find them.
    let hole = i;
    let j = i;
    while (true) {
      j = (j + 1) & mask;
      if (vals[j]! < 0) break;
      const home = (k1[j]! ^ Math.imul(k2[j]!, 0x9e3779b1)) & mask;
      const distHole = (j - hole) & mask;
      const distHome = (j - home) & mask;
      if (distHome >= distHole) {
        k1[hole] = k1[j]!;
        k2[hole] = k2[j]!;
        vals[hole] = vals[j]!;
        hole = j;
      }
    }
    vals[hole] = -1;
    this.size--;
    return true;
  }

  private grow(): void {
    const oldK1 = this.k1;
    const oldK2 = this.k2;
    const oldV = this.vals;
    const cap = (this.mask + 1) * 2;
    this.k1 = new Uint32Array(cap);
    this.k2 = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < oldV.length; i++) if (oldV[i]! >= 0) this.set(oldK1[i]!, oldK2[i]!, oldV[i]!);
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
