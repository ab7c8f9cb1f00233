import { describe, expect, it } from 'vitest';
import { metallbObjects } from '../../../cluster/kind/metallb.js';
import { kindAddressPlan, parseIpv4Subnet, pickIpv4Subnet } from '../../../cluster/kind/network.js';

const subnet = (cidr: string) => parseIpv4Subnet(cidr)!;

describe('kind network addresses', () => {
  it('takes the IPv4 subnet of a dual-stack kind network and ignores the IPv6 one', () => {
    const s = pickIpv4Subnet([{ subnet: 'fc00:f853:ccd:e793::/64' }, { subnet: '172.19.0.0/16' }], 'kind');
    expect(s.cidr).toBe('172.19.0.0/16');
  });

  it('says which network has no IPv4 subnet', () => {
    expect(() => pickIpv4Subnet([{ subnet: 'fc00:f853:ccd:e793::/64' }], 'kind')).toThrow(/docker network 'kind' has no IPv4 subnet \(it has: fc00:f853:ccd:e793::\/64\)/);
  });

  it('plans the top of a /16 like the netns lab (.255.200-250) with netlab containers below the pool', () => {
    expect(kindAddressPlan(subnet('172.19.0.0/16'), ['a', 'b'])).toMatchInlineSnapshot(`
      {
        "clientIp": "172.19.255.190",
        "emulatorIp": "172.19.255.191",
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
    `);
  });

  it('uses the top quarter of a small subnet and never the broadcast address', () => {
    const p = kindAddressPlan(subnet('10.1.2.64/26'), ['a', 'b']);
    expect(p.pool).toEqual({ start: '10.1.2.112', end: '10.1.2.126' });
    expect([p.clientIp, p.emulatorIp, ...Object.values(p.zoneIps)]).toEqual(['10.1.2.96', '10.1.2.97', '10.1.2.98', '10.1.2.99']);
  });

  it('normalizes a subnet written with host bits and works for a /24 and a /8', () => {
    expect(kindAddressPlan(subnet('192.168.7.9/24'), ['a']).pool).toEqual({ start: '192.168.7.200', end: '192.168.7.250' });
    expect(kindAddressPlan(subnet('10.0.0.0/8'), ['a']).pool).toEqual({ start: '10.255.255.200', end: '10.255.255.250' });
  });

  it('refuses a subnet too small to hold nodes, containers and a pool', () => {
    expect(() => kindAddressPlan(subnet('10.0.0.0/28'), ['a'])).toThrow(/has 16 addresses; netlab needs at least 32/);
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
