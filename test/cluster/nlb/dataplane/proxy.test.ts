import { describe, expect, it } from 'vitest';
import { pickTarget } from '../../../../cluster/nlb/dataplane/proxy.js';
import { ppv2LocalHeader, ppv2ProxyHeader } from '../../../../cluster/nlb/dataplane/ppv2.js';

const targets = ['t1', 't2', 't3', 't4'];
const flow = (sport: number, src = '198.51.100.10') => ({ src, sport, dst: '203.0.113.10', dport: 80 });

describe('the PPv2 proxy\'s target choice', () => {
  it('is a flow hash: the same 5-tuple always picks the same target, different flows spread', () => {
    expect(pickTarget(targets, flow(40000), false)).toBe(pickTarget(targets, flow(40000), false));
    const picked = new Set(Array.from({ length: 64 }, (_, i) => pickTarget(targets, flow(40000 + i), false)));
    expect(picked.size).toBe(4);
  });

  it('with source_ip stickiness every flow of a client picks the same target', () => {
    const picked = new Set(Array.from({ length: 64 }, (_, i) => pickTarget(targets, flow(40000 + i), true)));
    expect(picked.size).toBe(1);
    expect(pickTarget([], flow(1), false)).toBeUndefined();
  });
});

describe('PPv2 headers', () => {
  it('PROXY TCP4 with the client and listener addresses; LOCAL with none', () => {
    expect(ppv2ProxyHeader('198.51.100.10', 41234, '203.0.113.10', 80).toString('hex')).toBe(
      '0d0a0d0a000d0a515549540a' + '21' + '11' + '000c' + 'c633640a' + 'cb00710a' + 'a112' + '0050',
    );
    expect(ppv2LocalHeader().toString('hex')).toBe('0d0a0d0a000d0a515549540a' + '20' + '00' + '0000');
  });
});
