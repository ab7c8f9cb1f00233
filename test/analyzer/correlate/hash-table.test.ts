import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { U64Table } from '../../../analyzer/correlate/hash-table.js';

describe('U64Table', () => {
  it('behaves like a Map under any sequence of sets and deletes (backward-shift deletion keeps every key findable)', () => {
    const op = fc.record({ del: fc.boolean(), a: fc.integer({ min: 0, max: 40 }), b: fc.integer({ min: 0, max: 3 }), v: fc.nat(1000) });
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const t = new U64Table(4);
      const m = new Map<string, number>();
      for (const { del, a, b, v } of ops) {
        // Clustered keys (many share a home slot) are the hard case for linear probing.
        const ka = (a * 0x10000) >>> 0;
        if (del) expect(t.delete(ka, b)).toBe(m.delete(`${ka}/${b}`));
        else { t.set(ka, b, v); m.set(`${ka}/${b}`, v); }
      }
      expect(t.size).toBe(m.size);
      for (let a = 0; a <= 40; a++) for (let b = 0; b <= 3; b++) {
        const ka = (a * 0x10000) >>> 0;
        expect(t.get(ka, b)).toBe(m.get(`${ka}/${b}`) ?? -1);
      }
    }));
  });
});
