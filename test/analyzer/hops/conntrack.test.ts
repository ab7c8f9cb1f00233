import { describe, expect, it } from 'vitest';
import { describeNat, parseConntrack } from '../../../analyzer/hops/conntrack.js';

const EVENTS = `    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=198.51.100.10 dst=172.18.0.3 sport=41054 dport=31234 [UNREPLIED] src=10.244.1.5 dst=10.244.1.1 sport=8080 dport=48534
 [UPDATE] ipv4     2 tcp      6 60 SYN_RECV src=198.51.100.10 dst=172.18.0.3 sport=41054 dport=31234 src=10.244.1.5 dst=10.244.1.1 sport=8080 dport=48534
    [NEW] ipv4     2 udp      17 30 src=10.244.1.5 dst=10.96.0.10 sport=5353 dport=53 [UNREPLIED] src=10.96.0.10 dst=10.244.1.5 sport=53 dport=5353
    [NEW] ipv4     2 icmp     1 30 src=10.244.1.5 dst=10.244.2.5 type=8 code=0 id=7 [UNREPLIED] src=10.244.2.5 dst=10.244.1.5 type=0 code=0 id=7
`;

describe('conntrack ground truth', () => {
  it('parses extended event lines into one entry per original tuple (TCP and UDP)', () => {
    expect(parseConntrack(EVENTS)).toEqual([
      { origSrc: '198.51.100.10:41054', origDst: '172.18.0.3:31234', replySrc: '10.244.1.5:8080', replyDst: '10.244.1.1:48534', line: 1 },
      { origSrc: '10.244.1.5:5353', origDst: '10.96.0.10:53', replySrc: '10.96.0.10:53', replyDst: '10.244.1.5:5353', line: 3 },
    ]);
  });

  it("reads NAT off the reply tuple: its source is DNAT's target, its destination SNAT's address", () => {
    const [e] = parseConntrack(EVENTS);
    expect(describeNat({ src: e!.origSrc, dst: e!.origDst }, { src: e!.replyDst, dst: e!.replySrc }))
      .toBe('DNAT 172.18.0.3:31234 → 10.244.1.5:8080, SNAT 198.51.100.10:41054 → 10.244.1.1:48534');
    expect(describeNat({ src: 'a:1', dst: 'b:2' }, { src: 'a:1', dst: 'b:2' })).toBe('none');
  });
});
