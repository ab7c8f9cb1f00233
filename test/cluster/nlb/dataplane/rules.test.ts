import { describe, expect, it } from 'vitest';
import { lbAddresses, listenerChain, renderZoneRules } from '../../../../cluster/nlb/dataplane/rules.js';

describe('renderZoneRules', () => {
  it('HMARK flow hash + DNAT per target, SNAT only without client-IP preservation, DROP with no target, REJECT after termination', () => {
    const text = renderZoneRules({
      loadBalancers: [{
        name: 'k8s-default-svcnlb-5cca36ec3b', privateIp: '172.18.1.10', publicIp: '203.0.113.10',
        listeners: [
          { port: 80, protocol: 'TCP', mode: 'nat', preserveClientIp: false, stickySourceIp: false, targets: [{ ip: '10.244.1.2', port: 8080 }, { ip: '10.244.2.2', port: 8080 }] },
          { port: 443, protocol: 'TCP', mode: 'nat', preserveClientIp: true, stickySourceIp: true, targets: [{ ip: '172.18.0.3', port: 30443 }] },
          { port: 8443, protocol: 'TCP', mode: 'proxy', preserveClientIp: false, stickySourceIp: false, targets: [{ ip: '10.244.1.2', port: 8443 }] },
          { port: 53, protocol: 'UDP', mode: 'nat', preserveClientIp: false, stickySourceIp: false, targets: [] },
        ],
      }],
      terminated: [{ lbIps: ['203.0.113.10', '172.18.1.10'], ip: '10.244.1.9', port: 8080, protocol: 'TCP' }],
    });
    expect(text).toMatchSnapshot();
    expect(text).not.toContain('8443');
  });

  it('chain names fit iptables\' 28 characters', () => {
    expect(listenerChain('k8s-averyveryl-ongname-0123456789', 'TCP', 65535).length).toBeLessThanOrEqual(28);
  });

  it('a load balancer answers on its public and private IP, once when they are the same (API mode)', () => {
    expect(lbAddresses({ publicIp: '203.0.113.10', privateIp: '172.18.1.10' })).toEqual(['203.0.113.10', '172.18.1.10']);
    expect(lbAddresses({ publicIp: '172.18.2.12', privateIp: '172.18.2.12' })).toEqual(['172.18.2.12']);
  });
});
