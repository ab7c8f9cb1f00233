import { describe, expect, it } from 'vitest';
import { allocateAddresses, planLoadBalancerAddresses, planNodeReturnRouting, planZoneNode, zoneNodes } from '../../../../cluster/nlb/dataplane/topology.js';

const nodes = [
  { name: 'control-plane', ip: '172.18.0.2', podCIDR: '10.244.0.0/24' },
  { name: 'worker', ip: '172.18.0.3', podCIDR: '10.244.1.0/24' },
  { name: 'worker2', ip: '172.18.0.4', podCIDR: '10.244.2.0/24' },
];

describe('NLB topology plans', () => {
  it('one NLB node per zone: namespace, fabric port, fixed MAC, address, routes to every pod CIDR', () => {
    const zns = zoneNodes('netlab', 'lab-1', ['lab-1b', 'lab-1a']);
    expect(zns.map((z) => [z.zone, z.netns, z.fabricPort, z.mac, z.ip, z.table])).toEqual([
      ['lab-1a', 'netlab-nlb-a', 'nlb-a', '02:4e:4c:42:00:01', '172.18.1.2', 4201],
      ['lab-1b', 'netlab-nlb-b', 'nlb-b', '02:4e:4c:42:00:02', '172.18.1.3', 4202],
    ]);
    expect(planZoneNode('netlab-fabric', zns[0]!, nodes)).toMatchSnapshot();
    expect(planLoadBalancerAddresses(zns[0]!, 'netlab-router', { privateIp: '172.18.1.10', publicIp: '203.0.113.10' }, 'add')).toMatchSnapshot();
  });

  it('return routing marks connections by the NLB node\'s MAC and routes only replies back through it', () => {
    expect(planNodeReturnRouting(zoneNodes('netlab', 'lab-1', ['lab-1a', 'lab-1b']))).toMatchSnapshot();
  });

  it('addresses: kept across reallocations, freed when a load balancer goes, lowest free first', () => {
    const first = allocateAddresses({}, [{ name: 'lb-b', zones: ['lab-1a', 'lab-1b'] }, { name: 'lb-a', zones: ['lab-1a', 'lab-1b'] }]);
    expect(first).toEqual({
      'lb-a': { 'lab-1a': { privateIp: '172.18.1.10', publicIp: '203.0.113.10' }, 'lab-1b': { privateIp: '172.18.1.11', publicIp: '203.0.113.11' } },
      'lb-b': { 'lab-1a': { privateIp: '172.18.1.12', publicIp: '203.0.113.12' }, 'lab-1b': { privateIp: '172.18.1.13', publicIp: '203.0.113.13' } },
    });
    const second = allocateAddresses(first, [{ name: 'lb-b', zones: ['lab-1a', 'lab-1b'] }, { name: 'lb-c', zones: ['lab-1a'] }]);
    expect(second['lb-b']).toEqual(first['lb-b']);
    expect(second['lb-c']).toEqual({ 'lab-1a': { privateIp: '172.18.1.10', publicIp: '203.0.113.10' } });
    expect(second['lb-a']).toBeUndefined();
  });
});
