import { describe, expect, it } from 'vitest';
import { metallbObjects } from '../../../cluster/kind/metallb.js';
import { ipToNumber, kindAddressPlan, parseIpv4Subnet, pickIpv4Subnet } from '../../../cluster/kind/network.js';

const subnet = (cidr: string) => parseIpv4Subnet(cidr)!;

describe('kind network addresses', () => {
  it('takes the IPv4 subnet of a dual-stack kind network and ignores the IPv6 one', () => {
    const s = pickIpv4Subnet([{ subnet: 'fc00:f853:ccd:e793::/64' }, { subnet: '172.19.0.0/16' }], 'kind');
    expect(s.cidr).toBe('172.19.0.0/16');
  });

  it('says which network has no IPv4 subnet', () => {
    expect(() => pickIpv4Subnet([{ subnet: 'fc00:f853:ccd:e793::/64' }], 'kind')).toThrow(/docker network 'kind' has no IPv4 subnet \(it has: fc00:f853:ccd:e793::\/64\)/);
  });

  it('plans the top /24 of a /16 like the netns lab (.255.200-250) with NLB addresses and netlab containers below', () => {
    expect(kindAddressPlan(subnet('172.19.0.0/16'), ['a', 'b'])).toMatchInlineSnapshot(`
      {
        "clientIp": "172.19.255.190",
        "emulatorIp": "172.19.255.191",
        "nlbPool": {
          "cidr": "172.19.255.96/27",
          "end": "172.19.255.126",
          "start": "172.19.255.97",
        },
        "pool": {
          "end": "172.19.255.250",
          "start": "172.19.255.200",
        },
        "subnet": "172.19.0.0/16",
        "zoneIps": {
          "a": "172.19.255.192",
          "b": "172.19.255.193",
        },
      }
    `)
  });

  it('normalizes a subnet written with host bits and works for a /24 and a /8', () => {
    expect(kindAddressPlan(subnet('192.168.7.9/24'), ['a']).pool).toEqual({ start: '192.168.7.200', end: '192.168.7.250' });
    expect(kindAddressPlan(subnet('10.0.0.0/8'), ['a']).pool).toEqual({ start: '10.255.255.200', end: '10.255.255.250' });
    expect(kindAddressPlan(subnet('10.0.0.0/8'), ['a']).nlbPool).toEqual({ start: '10.255.255.97', end: '10.255.255.126', cidr: '10.255.255.96/27' });
  });

  it('keeps every address it plans inside the subnet, off the network and broadcast addresses, and apart', () => {
    for (const cidr of ['172.18.0.0/16', '172.19.0.0/16', '192.168.200.0/24', '10.89.0.0/20', '100.64.0.0/10']) {
      const s = subnet(cidr);
      const p = kindAddressPlan(s, ['a', 'b', 'c']);
      const all = [p.pool.start, p.pool.end, p.nlbPool.start, p.nlbPool.end, p.clientIp, p.emulatorIp, ...Object.values(p.zoneIps)].map(ipToNumber);
      const last = s.base + 2 ** (32 - s.prefix) - 1;
      expect(all.every((n) => n > s.base && n < last)).toBe(true);
      expect(new Set(all).size).toBe(all.length);
      // No single address inside a range, and the two ranges apart.
      const inside = (n: number, r: { start: string; end: string }) => n >= ipToNumber(r.start) && n <= ipToNumber(r.end);
      const singles = [p.clientIp, p.emulatorIp, ...Object.values(p.zoneIps)].map(ipToNumber);
      expect(singles.filter((n) => inside(n, p.pool) || inside(n, p.nlbPool))).toEqual([]);
      expect(inside(ipToNumber(p.nlbPool.start), p.pool) || inside(ipToNumber(p.nlbPool.end), p.pool) || inside(ipToNumber(p.pool.start), p.nlbPool)).toBe(false);
    }
  });

  it('refuses a subnet smaller than a /24', () => {
    expect(() => kindAddressPlan(subnet('10.0.0.0/25'), ['a'])).toThrow(/has 128 addresses; netlab needs at least a \/24/);
  });

  it('is not fooled by IPv6 text', () => {
    expect(parseIpv4Subnet('fc00::/64')).toBeNull();
  });
});

describe('metallbObjects', () => {
  it('builds the pool from the top of a non-default kind subnet, plus an L2Advertisement for it', () => {
    expect(metallbObjects(subnet('172.19.0.0/16'))).toMatchSnapshot();
  });

  it('follows the subnet it is given', () => {
    const [pool] = metallbObjects(subnet('192.168.200.0/24')) as Array<{ spec: { addresses: string[] } }>;
    expect(pool!.spec.addresses).toEqual(['192.168.200.200-192.168.200.250']);
  });
});
