import { describe, expect, it } from 'vitest';
import { diffHostState, snapshotHostState, type HostState } from './dockerd.js';

describe('host state snapshots (the Docker test proves with them that it left the host alone)', () => {
  it('two snapshots in a row are equal, and hold the host addresses and routes', async () => {
    const a = await snapshotHostState();
    const b = await snapshotHostState();
    expect(diffHostState(a, b)).toEqual([]);
    expect(a.addresses).toMatch(/\blo\b.*inet 127\.0\.0\.1\/8/);
    expect(a.routes.length).toBeGreaterThan(0);
    expect(a.sysctls).toMatch(/^net\.ipv4\.ip_forward=[01]$/m);
  });

  it('names what dockerd with its defaults would have changed', () => {
    const before: HostState = { addresses: '1: lo inet 127.0.0.1/8', routes: '', iptables: '*filter\n:FORWARD ACCEPT \nCOMMIT', nftables: '', sysctls: 'net.ipv4.ip_forward=0', mounts: '', dockerPaths: '/run/docker absent' };
    const after: HostState = {
      ...before,
      addresses: `${before.addresses}\n5: docker0 inet 172.17.0.1/16`,
      iptables: '*filter\n:FORWARD DROP \n:DOCKER - \nCOMMIT',
      sysctls: 'net.ipv4.ip_forward=1',
    };
    expect(diffHostState(before, after)).toEqual([
      'addresses: removed [] added [5: docker0 inet 172.17.0.1/16]',
      'iptables: removed [:FORWARD ACCEPT ] added [:FORWARD DROP  | :DOCKER - ]',
      'sysctls: removed [net.ipv4.ip_forward=0] added [net.ipv4.ip_forward=1]',
    ]);
  });
});
