import { describe, expect, it } from 'vitest';
import { ipv4ToString, ipv6ToString, parseIp } from '../../../analyzer/decode/ip-text.js';

describe('address text', () => {
  it('prints IPv4 from an unsigned 32-bit number', () => {
    expect(ipv4ToString(0xc633640a)).toBe('198.51.100.10');
    expect(ipv4ToString(0xffffffff)).toBe('255.255.255.255');
  });

  it('prints IPv6 the RFC 5952 way (longest zero run compressed, lowercase, mapped IPv4 dotted)', () => {
    const v6 = (s: string) => { const p = parseIp(s); if (p?.version !== 6) throw new Error(s); return p.bytes; };
    expect(ipv6ToString(v6('2001:0db8:0000:0000:0000:0000:0000:0001'))).toBe('2001:db8::1');
    expect(ipv6ToString(v6('2001:db8:0:1:0:0:0:1'))).toBe('2001:db8:0:1::1');
    expect(ipv6ToString(v6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(ipv6ToString(v6('::'))).toBe('::');
    expect(ipv6ToString(v6('::1'))).toBe('::1');
    expect(ipv6ToString(v6('::ffff:198.51.100.10'))).toBe('::ffff:198.51.100.10');
    expect(ipv6ToString(v6('fe80::'))).toBe('fe80::');
  });

  it('parses both families and rejects what is not an address', () => {
    expect(parseIp('203.0.113.10')).toEqual({ version: 4, u32: 0xcb00710a });
    for (const bad of ['', '1.2.3', '1.2.3.256', '1:2:3', '1::2::3', '12345::', 'g::1', '1.2.3.4.5', '1:2:3:4:5:6:7:8:9']) expect(parseIp(bad), bad).toBeNull();
  });
});
