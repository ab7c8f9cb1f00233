/**
 * Property: on any byte sequence the decoder either finishes or throws a NetlabError — never
 * another exception, never a hang. Inputs are the fixtures mutated by bit flips, truncations,
 * inserted bytes and length-like fields set to extremes, fed in random chunk sizes. And the same
 * mutated inputs decode identically whole and in tiny chunks, so the fast loops over whole units
 * and the generic carry-over path cannot drift apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { formatText, PacketDecoder, recordToContract } from '../../../analyzer/decode/index.js';

const fixtures = readdirSync('fixtures/decode').filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => new Uint8Array(readFileSync(`fixtures/decode/${f}`)));
/** Far above what decoding a few-KiB fixture takes (well under a millisecond). */
const MAX_MS_PER_CASE = 250;

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'set16' | 'set32'; at: number; value: number; le: boolean }
  | { kind: 'insert'; at: number; bytes: number[] };

const EXTREMES = [0, 1, 3, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x3ffff, 0x40000, 0x40001, 0x7fffffff, 0xffffffff];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom('set16' as const, 'set32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...EXTREMES), fc.nat()), le: fc.boolean() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
);

function apply(input: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = input.slice();
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] ^= 1 << m.bit;
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (m.kind === 'set16' && at + 2 <= b.length) dv.setUint16(at, m.value & 0xffff, m.le);
      if (m.kind === 'set32' && at + 4 <= b.length) dv.setUint32(at, m.value >>> 0, m.le);
    }
  }
  return b;
}

function decodeAll(bytes: Uint8Array, chunk: number, outputs: boolean): void {
  const dec = new PacketDecoder((rec) => {
    // The output paths read the same offsets; they must cope with whatever the decoder accepted.
    if (outputs) { JSON.stringify(recordToContract(rec)); formatText(rec); }
  });
  for (let off = 0; off < bytes.length; off += chunk) dec.push(bytes.subarray(off, off + chunk));
  dec.finish();
}

describe('decoder fuzzing', () => {
  it('never throws anything but NetlabError and never hangs on mutated fixtures', () => {
    let rejected = 0;
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: fixtures.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 5000 }), fc.boolean(),
        (which, muts, chunk, outputs) => {
          const bytes = apply(fixtures[which], muts);
          const start = performance.now();
          try {
            decodeAll(bytes, chunk, outputs);
            accepted++;
          } catch (err) {
            if (!(err instanceof NetlabError)) throw err;
            expect(err.oneLine()).not.toContain('\n');
            rejected++;
          }
          expect(performance.now() - start).toBeLessThan(MAX_MS_PER_CASE);
        },
      ),
      { numRuns: 20_000, seed: 20261127 },
    );
    // Both outcomes must really occur, or the mutations are not reaching the interesting code.
    expect(accepted).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(1000);
  });

  it('decodes the same whether units arrive whole (the per-container hot loops) or split (the carry-over path)', () => {
    const run = (bytes: Uint8Array, chunk: number): string[] => {
      const out: string[] = [];
      const dec = new PacketDecoder((rec) => {
        out.push(JSON.stringify({ ...recordToContract(rec), payloadHash: rec.payloadHash, fileOffset: rec.fileOffset }));
      });
      try {
        for (let off = 0; off < bytes.length; off += chunk) dec.push(bytes.subarray(off, off + chunk));
        out.push(JSON.stringify(dec.finish()));
      } catch (err) {
        if (!(err instanceof NetlabError)) throw err;
        out.push(`error: ${err.oneLine()}`);
      }
      return out;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: fixtures.length - 1 }), fc.array(mutation, { minLength: 0, maxLength: 4 }), fc.integer({ min: 1, max: 7 }),
        (which, muts, chunk) => {
          const bytes = apply(fixtures[which], muts);
          expect(run(bytes, chunk)).toEqual(run(bytes, bytes.length || 1));
        },
      ),
      { numRuns: 3_000, seed: 2611 },
    );
  });

  it('never throws anything but NetlabError on random bytes behind a valid file header', () => {
    const pcapHeader = fixtures[0].subarray(0, 24);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), fc.integer({ min: 1, max: 600 }), (tail, chunk) => {
        const bytes = Uint8Array.from([...pcapHeader, ...tail]);
        try { decodeAll(bytes, chunk, true); } catch (err) { if (!(err instanceof NetlabError)) throw err; }
      }),
      { numRuns: 5_000, seed: 7 },
    );
  });
});
