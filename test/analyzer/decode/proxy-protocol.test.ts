import { describe, expect, it } from 'vitest';
import { newPacketRecord } from '../../../analyzer/decode/context.js';
import { parsePpv1, parsePpv2, PP } from '../../../analyzer/decode/proxy-protocol.js';
import { ascii, awsVpceTlv, ppv2 } from '../../../fixtures/generate/packets.js';

const rec = () => newPacketRecord().ppv2;

describe('PROXY protocol parsers', () => {
  it('v2: lengths honoured, CRC32C verified, AWS VPC endpoint found', () => {
    const h = ppv2({ command: 'PROXY', family: 'inet', src: '198.51.100.10', dst: '203.0.113.10', sport: 1, dport: 80, tlvs: [awsVpceTlv('vpce-1')], crc: 'good' });
    const p = rec();
    expect(parsePpv2(h, 0, h.length, p)).toBe(h.length);
    expect(p).toMatchObject({ present: true, version: 2, command: 1, family: 'inet', src4: 0xc633640a, sport: 1, dport: 80, crcOk: 1 });
    expect(Buffer.from(h.subarray(p.awsVpceOffset, p.awsVpceOffset + p.awsVpceLen)).toString()).toBe('vpce-1');
    const bad = h.slice();
    bad[16] ^= 1; // the source address changes after the CRC was computed
    const q = rec();
    expect(parsePpv2(bad, 0, bad.length, q)).toBe(bad.length);
    expect(q.crcOk).toBe(0);
  });

  it('v2: every prefix of a header needs more bytes; other bytes are not PROXY; impossible fields are bad', () => {
    const h = ppv2({ command: 'LOCAL', family: 'unspec' });
    for (let n = 1; n < h.length; n++) expect(parsePpv2(h, 0, n, rec())).toBe(PP.NEED_MORE);
    expect(parsePpv2(ascii('GET / HTTP/1.1\r\n'), 0, 16, rec())).toBe(PP.NOT_PROXY);
    const v3 = h.slice(); v3[12] = 0x31;
    expect(parsePpv2(v3, 0, v3.length, rec())).toBe(PP.BAD_V2);
    const shortAddr = ppv2({ command: 'PROXY', family: 'unspec' }); shortAddr[13] = 0x11; // INET but no address block
    expect(parsePpv2(shortAddr, 0, shortAddr.length, rec())).toBe(PP.BAD_V2);
  });

  it('v2 cut by the snap length keeps its addresses once they were captured', () => {
    const h = ppv2({ command: 'PROXY', family: 'inet6', src: '2001:db8::1', dst: '2001:db8::2', sport: 5, dport: 6, tlvs: [{ type: 5, value: new Uint8Array(100) }] });
    expect(parsePpv2(h, 0, 40, rec(), true)).toBe(PP.NEED_MORE);
    const p = rec();
    expect(parsePpv2(h, 0, 60, p, true)).toBe(h.length);
    expect(p).toMatchObject({ truncated: true, family: 'inet6', sport: 5, crcOk: -1 });
  });

  it('v1: TCP4, TCP6, UNKNOWN; malformed lines are bad, partial lines need more', () => {
    const p = rec();
    const line = ascii('PROXY TCP4 198.51.100.10 203.0.113.10 41234 80\r\nGET');
    expect(parsePpv1(line, 0, line.length, p)).toBe(line.length - 3);
    expect(p).toMatchObject({ version: 1, family: 'inet', src4: 0xc633640a, sport: 41234, dport: 80 });
    expect(parsePpv1(ascii('PROXY UNKNOWN\r\n'), 0, 15, rec())).toBe(15);
    expect(parsePpv1(ascii('PROXY TCP4 1.2.3.4'), 0, 18, rec())).toBe(PP.NEED_MORE);
    for (const bad of ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'PROXY TCP4 1.2.3.4 ::1 1 2\r\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n']) {
      expect(parsePpv1(ascii(bad), 0, bad.length, rec()), bad).toBe(PP.BAD_V1);
    }
  });
});
