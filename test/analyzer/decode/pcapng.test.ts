import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitTimestamp, type InterfaceState } from '../../../analyzer/decode/pcapng.js';

function iface(unitsPerSec: number): InterfaceState {
  return {
    info: { id: 0, section: 0, linktype: 1, name: null, description: null, tsresolNs: 1e9 / unitsPerSec }, linktype: 1, snaplen: 0,
    unitsPerSec, nsPerUnit: Number.isInteger(1e9 / unitsPerSec) ? 1e9 / unitsPerSec : 0, tsOffsetSec: 0, lastHi: -1, lastHiSec: 0, lastHiRem: 0,
  };
}

describe('splitTimestamp', () => {
  // Up to 2^53 seconds (far past any real capture): beyond that a number cannot hold the seconds exactly.
  it('splits 64-bit timestamps exactly, like BigInt division, for every resolution', () => {
    const states = [1e9, 1e6, 1e3, 2 ** 20, 2 ** 30].map(iface);
    const out = new Float64Array(2);
    fc.assert(fc.property(fc.integer({ min: 0, max: states.length - 1 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (which, raw) => {
      const s = states[which];
      const limit = BigInt(s.unitsPerSec) << 53n;
      const ts = limit < 1n << 64n ? raw % limit : raw;
      splitTimestamp(Number(ts >> 32n), Number(ts & 0xffffffffn), s, out);
      const div = BigInt(s.unitsPerSec);
      const rem = Number(ts % div);
      expect(out[0]).toBe(Number(ts / div));
      expect(out[1]).toBe(s.nsPerUnit > 0 ? rem * s.nsPerUnit : Math.floor((rem * 1e9) / s.unitsPerSec));
    }), { numRuns: 20_000, seed: 3 });
  });
});
