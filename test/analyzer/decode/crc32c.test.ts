import { describe, expect, it } from 'vitest';
import { crc32c, crc32cFieldMatches, crc32cUpdate, crc32cZeros } from '../../../analyzer/decode/crc32c.js';

describe('crc32c', () => {
  it('matches the Castagnoli check value and the RFC 3720 vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });

  it('continues across pieces and over zero bytes', () => {
    const data = Buffer.from('PROXY header with a CRC field');
    const whole = crc32c(Buffer.concat([data.subarray(0, 10), Buffer.alloc(4), data.subarray(10)]));
    expect(crc32cUpdate(crc32cZeros(crc32cUpdate(0, data, 0, 10), 4), data, 10, data.length - 10)).toBe(whole);
  });
});

describe('crc32cFieldMatches', () => {
  it('checks a CRC stored big-endian inside the summed bytes, the field counted as zeros', () => {
    const data = Buffer.from('....PROXY header with a CRC field....');
    const fieldAt = 10;
    data.fill(0, fieldAt, fieldAt + 4);
    data.writeUInt32BE(crc32c(data, 4, data.length - 8), fieldAt);
    expect(crc32cFieldMatches(data, 4, data.length - 4, fieldAt)).toBe(true);
    data[20] ^= 1;
    expect(crc32cFieldMatches(data, 4, data.length - 4, fieldAt)).toBe(false);
  });
});
