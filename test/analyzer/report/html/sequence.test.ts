import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ContractReport } from '../../../../analyzer/report/contract.js';
import { parseAddress, planPathShapes, replyTranslation } from '../../../../analyzer/report/html/sequence.js';

// SAMPLE FIXTURE: hand-written in the CONTRACT.md shape, not captured (see its README).
const sample = (name: string): ContractReport => JSON.parse(readFileSync(`fixtures/report/hand-written-sample/${name}.json`, 'utf8'));

describe('planPathShapes', () => {
  it('groups the instance-cluster flows into the same-node and the cross-node path', () => {
    const shapes = planPathShapes(sample('instance-cluster'));
    expect(shapes.map((s) => s.flowIds)).toEqual([['f1', 'f3', 'f5'], ['f2', 'f4', 'f6']]);
    expect(shapes[0]!.lanes).toEqual(['client', 'nlb-a', 'worker-eth0', 'worker2-eth0', 'worker2-veth-echo-b', 'echo-b']);
    expect(shapes[0]).toMatchSnapshot();
  });

  it('marks the verdict\'s number of LB decisions on the first destination-changing hops', () => {
    const [cluster] = planPathShapes(sample('instance-cluster'));
    expect(cluster!.arrows.filter((a) => a.lbDecision).map((a) => [a.to, a.by])).toEqual([['nlb-a', 'nlb'], ['worker2-eth0', 'kube-proxy']]);
    const local = planPathShapes((JSON.parse(readFileSync('fixtures/report/hand-written-sample/local-policy.json', 'utf8')) as { report: ContractReport }).report);
    expect(local[0]!.arrows.filter((a) => a.lbDecision).map((a) => a.to)).toEqual(['nlb-a']);
  });

  it('flags exactly the rewritten fields', () => {
    const [cluster] = planPathShapes(sample('instance-cluster'));
    const atNlb = cluster!.arrows.find((a) => a.direction === 'request' && a.to === 'nlb-a')!;
    expect(atNlb.rewritten).toEqual({ srcIp: false, srcPort: false, dstIp: true, dstPort: true });
    const atWorker2 = cluster!.arrows.find((a) => a.direction === 'request' && a.to === 'worker2-eth0')!;
    expect(atWorker2.rewritten).toEqual({ srcIp: true, srcPort: true, dstIp: true, dstPort: true });
  });

  it('rebuilds the reply from the request when the analyzer gave none, reversing each NAT', () => {
    const [cluster] = planPathShapes(sample('instance-cluster'));
    const reply = cluster!.arrows.filter((a) => a.direction === 'reply');
    expect(reply.map((a) => a.to)).toEqual(['echo-b', 'worker2-veth-echo-b', 'worker2-eth0', 'worker-eth0', 'nlb-a', 'client']);
    expect(reply.every((a) => a.derived)).toBe(true);
    const toClient = reply[reply.length - 1]!;
    expect([toClient.src, toClient.dst]).toEqual([parseAddress('203.0.113.10:80'), parseAddress('198.51.100.10:41000')]);
    expect(reply.find((a) => a.to === 'worker-eth0')!.translation).toBe(replyTranslation('dnat+snat'));
  });

  it('uses the reply hops the analyzer gave, and shows PPv2 on the proxied request', () => {
    const shapes = planPathShapes(sample('ip-mode-ppv2'));
    const withReply = shapes.find((s) => s.representative.id === 'f1')!;
    expect(withReply.arrows.filter((a) => a.direction === 'reply' && !a.derived)).toHaveLength(5);
    expect(withReply.arrows.filter((a) => a.ppv2).map((a) => a.ppv2)).toEqual(Array(4).fill('PPv2 PROXY client 198.51.100.10:42000'));
  });

  it('parses IPv6 and port-less addresses', () => {
    expect(parseAddress('[2001:db8::1]:443')).toEqual({ ip: '2001:db8::1', port: '443' });
    expect(parseAddress('2001:db8::1')).toEqual({ ip: '2001:db8::1', port: null });
    expect(parseAddress('10.0.0.1')).toEqual({ ip: '10.0.0.1', port: null });
  });
});
