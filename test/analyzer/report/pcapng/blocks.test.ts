import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enhancedPacket, interfaceDescription, sectionHeader, timestampHalves } from '../../../../analyzer/report/pcapng/blocks.js';

/** Hex in 4-byte words, so the block layout can be read against the pcapng spec. */
const words = (b: Buffer) => b.toString('hex').replace(/(.{8})/g, '$1 ').trim();

describe('pcapng blocks', () => {
  it('section header: byte-order magic, version 1.0, unknown section length, shb_userappl', () => {
    expect(words(sectionHeader('netlab'))).toMatchInlineSnapshot(`"0a0d0d0a 2c000000 4d3c2b1a 01000000 ffffffff ffffffff 04000600 6e65746c 61620000 00000000 2c000000"`);
  });

  it('interface description: link type, snap length, if_name, if_description, if_tsresol', () => {
    expect(words(interfaceDescription({ linktype: 276, snaplen: 262144, name: 'worker:eth0', description: 'role=node node=worker if=eth0', tsresolExp: 9 }))).toMatchInlineSnapshot(`"01000000 54000000 14010000 00000400 02000b00 776f726b 65723a65 74683000 03001d00 726f6c65 3d6e6f64 65206e6f 64653d77 6f726b65 72206966 3d657468 30000000 09000100 09000000 00000000 54000000"`);
  });

  it('enhanced packet: split 64-bit timestamp, padded data, one opt_comment per comment', () => {
    const b = enhancedPacket(3, 1_700_000_000_123_456n, Uint8Array.of(1, 2, 3, 4, 5), 60, ['f1 hop 2: DNAT', 'PPv2']);
    expect(words(b)).toMatchInlineSnapshot(`"06000000 48000000 03000000 240a0600 40222018 05000000 3c000000 01020304 05000000 01000e00 66312068 6f702032 3a20444e 41540000 01000400 50507632 00000000 48000000"`);
    // Block lengths agree at both ends and are multiples of 4.
    expect(b.readUInt32LE(4)).toBe(b.length);
    expect(b.readUInt32LE(b.length - 4)).toBe(b.length);
    expect(b.length % 4).toBe(0);
  });

  it('a packet without comments carries no options at all', () => {
    expect(enhancedPacket(0, 0n, new Uint8Array(4), 4, []).length).toBe(32 + 4);
  });

  it('splits sec * units + frac into exact 32-bit halves for any 32-bit second and unit up to 1 ns', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.constantFrom(1, 1e3, 1e6, 1e9), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (sec, units, f) => {
        const frac = Math.floor(f * units);
        const exact = BigInt(sec) * BigInt(units) + BigInt(frac);
        expect(timestampHalves(sec, units, frac)).toEqual([Number(exact >> 32n), Number(exact & 0xffffffffn)]);
      }),
      { numRuns: 2000 },
    );
  });
});
