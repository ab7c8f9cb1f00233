import { describe, expect, it } from 'vitest';
import { classifyStep } from '../../../analyzer/hops/infer.js';
import type { HopResult } from '../../../analyzer/hops/types.js';

function hop(src: string, dst: string, ttl: number, extra: Partial<HopResult> = {}): HopResult {
  return { point: 'p', src, dst, ttl, translation: 'none', by: null, at: null, ppv2: null, xff: null, tunnel: null, n: 1, connection: 1,
    packets: 1, retransmissions: 0, duplicates: 0, superframes: 0, time: 0, ...extra };
}

describe('classifyStep', () => {
  const a = hop('198.51.100.10:4000', '203.0.113.10:80', 64);
  it.each([
    ['none (bridged: nothing changes)', hop('198.51.100.10:4000', '203.0.113.10:80', 64), 'none'],
    ['routed (TTL drops)', hop('198.51.100.10:4000', '203.0.113.10:80', 63), 'routed'],
    ['dnat', hop('198.51.100.10:4000', '10.244.1.5:8080', 63), 'dnat'],
    ['snat', hop('172.18.0.3:5000', '203.0.113.10:80', 63), 'snat'],
    ['dnat+snat', hop('172.18.0.3:5000', '10.244.1.5:8080', 63), 'dnat+snat'],
    ['proxy (another TCP connection)', hop('172.18.1.10:5000', '10.244.1.5:8080', 64, { connection: 2 }), 'proxy'],
    ['encap', hop('198.51.100.10:4000', '203.0.113.10:80', 63, { tunnel: { kind: 'vxlan', src: '172.18.0.3', dst: '172.18.0.4' } }), 'encap'],
  ] as const)('%s', (_name, cur, want) => {
    expect(classifyStep(a, cur)).toBe(want);
  });

  it('decap when the tunnel ends', () => {
    const inTunnel = hop('a:1', 'b:2', 63, { tunnel: { kind: 'vxlan', src: 'x', dst: 'y' } });
    expect(classifyStep(inTunnel, hop('a:1', 'b:2', 62))).toBe('decap');
  });
});
