/** What the decoder finds in each fixture, stated field by field (the goldens only guard against change). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { PacketDecoder, recordToContract, type DecodeSummary } from '../../../analyzer/decode/index.js';
import { concat, ethernet, FLAGS, ip, ppv2, tcp } from '../../../fixtures/generate/packets.js';
import { pcapFile } from '../../../fixtures/generate/writers.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function decode(bytes: Uint8Array, opts = {}): { recs: Obj[]; summary: DecodeSummary } {
  const recs: Obj[] = [];
  const dec = new PacketDecoder((rec) => recs.push(recordToContract(rec)), opts);
  dec.push(bytes);
  return { recs, summary: dec.finish() };
}
const fixture = (name: string) => decode(readFileSync(`fixtures/decode/${name}`));

describe('PacketDecoder on the fixtures', () => {
  it('ethernet: handshake, HTTP headers, echo client_address, ICMP quotes, ARP, VLANs, fragments, IPv6', () => {
    const { recs, summary } = fixture('ethernet-le-usec.pcap');
    expect(recs[0]).toMatchObject({ n: 1, ts: '1700000000.001000000', linktype: 1, l3: 'ipv4', src: '198.51.100.10', dst: '203.0.113.10', proto: 'tcp', sport: 41234, dport: 80, ipId: 0x1001, ttl: 64, seq: 1000000, ack: null, flags: 'S', tcp: { mss: 1460, wscale: 7, tsval: 100 } });
    expect(recs[1]).toMatchObject({ flags: 'S.', ack: 1000001 });
    expect(recs[3].http).toEqual({ request: true, method: 'GET', path: '/', status: null, host: 'echo.example', xForwardedFor: '198.51.100.10, 203.0.113.99', xRealIp: '198.51.100.10', clientAddress: null });
    expect(recs[4].http).toMatchObject({ request: false, status: 200, clientAddress: '172.18.0.3' });
    expect(recs[5].flags).toBe('F.');
    expect(recs[6].flags).toBe('R');
    expect(recs[10].icmp).toMatchObject({ type: 3, code: 3, quoted: { src: '198.51.100.10', dst: '203.0.113.10', proto: 'udp', sport: 53000, dport: 33434, ipId: 0x0101, ttl: 1 } });
    expect(recs[11].icmp.quoted).toMatchObject({ proto: 'tcp', sport: 41000, dport: 8080, seq: 5555 });
    expect(recs[12]).toMatchObject({ l3: 'arp', arpOp: 1, src: '172.18.0.1', dst: '172.18.255.200', proto: null });
    expect(recs[14]).toMatchObject({ vlan: 100, sport: 41300 });
    expect(recs[15]).toMatchObject({ vlan: 200, proto: 'udp', dport: 8125 });
    expect(recs[16]).toMatchObject({ sport: 41302, error: null });
    expect(recs[17]).toMatchObject({ fragment: true, sport: 41303, error: null });
    expect(recs[18]).toMatchObject({ fragment: true, sport: null, ipId: 0x6001 });
    expect(recs[19]).toMatchObject({ l3: 'ipv6', src: '2001:db8:100::10', dst: '2001:db8:200::80', ttl: 61, sport: 42000, dport: 443, ipId: null });
    expect(recs[22].icmp).toMatchObject({ type: 1, code: 4, quoted: { l3: 'ipv6', sport: 42000, dport: 443, seq: 3000000 } });
    expect(recs[23]).toMatchObject({ fragment: true, ipId: 0xcafe0001, sport: 6000 });
    expect(recs[24]).toMatchObject({ l3: 'other', src: null });
    expect(summary).toMatchObject({ packets: 25, container: 'pcap', http: 2, malformed: {} });
  });

  it('PROXY protocol: every v2/v1 variant, TLVs, CRC32C, AWS VPC endpoint, split headers', () => {
    const { recs, summary } = fixture('proxy-protocol.pcap');
    expect(recs[0].ppv2).toMatchObject({ version: 2, command: 'PROXY', family: 'inet', src: '198.51.100.10', dst: '203.0.113.10', sport: 41234, dport: 80, crc32c: 'ok', awsVpceId: 'vpce-0123456789abcdef0', reassembled: false });
    expect(recs[0].ppv2.tlvs.map((t: Obj) => t.type)).toEqual([0x02, 0xea, 0x03]);
    expect(recs[0].ppv2.tlvs[0]).toEqual({ type: 2, length: 12, value: Buffer.from('echo.example').toString('hex') });
    expect(recs[0].http).toMatchObject({ method: 'GET', host: 'echo.example' });
    expect(recs[1].ppv2).toMatchObject({ family: 'inet6', src: '2001:db8:100::10', dst: '2001:db8:300::10', sport: 50000 });
    expect(recs[2].ppv2).toMatchObject({ command: 'LOCAL', family: 'unspec', src: null, sport: null });
    expect(recs[3].ppv2).toMatchObject({ command: 'LOCAL', family: 'inet', src: '172.18.1.10' });
    expect(recs[4].ppv2).toMatchObject({ family: 'unix', src: null });
    expect(recs[4].http).not.toBeNull();
    expect(recs[5]).toMatchObject({ error: 'proxy-v2-crc-mismatch', ppv2: { crc32c: 'bad' } });
    expect(recs[6].ppv2).toMatchObject({ version: 1, family: 'inet', src: '198.51.100.10', sport: 41237, tlvs: [] });
    expect(recs[7].ppv2).toMatchObject({ version: 1, family: 'inet6', src: '2001:db8:100::10' });
    expect(recs[8].ppv2).toMatchObject({ version: 1, family: 'unspec' });
    expect(recs[9].ppv2).toBeNull();
    expect(recs[10].ppv2).toMatchObject({ version: 2, src: '198.51.100.11', sport: 41236, awsVpceId: 'vpce-0fedcba9876543210', reassembled: true });
    expect(recs[10].http).toMatchObject({ method: 'GET' });
    expect(recs[11].ppv2).toBeNull();
    expect(recs[12].ppv2).toMatchObject({ version: 1, src: '198.51.100.12', reassembled: true });
    expect(summary.ppv2Headers).toBe(11);
    expect(summary.malformed).toEqual({ 'proxy-v2-crc-mismatch': { count: 1, firstOffset: expect.any(Number) } });
  });

  it('tunnels: the outer packet stays, the inner one is decoded', () => {
    const { recs } = fixture('tunnels.pcap');
    expect(recs.map((r) => [r.inner.tunnel, r.inner.vni, r.inner.src, r.inner.dst, r.inner.proto, r.inner.dport])).toEqual([
      ['vxlan', 4096, '10.244.1.5', '10.244.2.7', 'tcp', 8080],
      ['vxlan', 1, '10.244.1.5', '10.244.2.7', 'udp', 53],
      ['geneve', 77, '10.244.1.5', '10.244.2.7', 'tcp', 8080],
      ['geneve', 78, '10.244.1.5', '10.244.2.7', 'udp', 53],
      ['ipip', null, '10.244.1.5', '10.244.2.7', 'tcp', 8080],
      ['ipip', null, '2001:db8:100::10', '2001:db8:200::80', 'tcp', 80],
    ]);
    expect(recs[0]).toMatchObject({ src: '172.18.0.3', dst: '172.18.0.4', proto: 'udp', dport: 4789 });
  });

  it('SLL2 keeps the interface index and direction; SLL the direction', () => {
    expect(fixture('sll2.pcap').recs.map((r) => [r.ifindex, r.pktType])).toEqual([[2, 0], [5, 4], [5, 0], [2, 1], [2, 0]]);
    expect(fixture('sll.pcap').recs.map((r) => [r.ifindex, r.pktType])).toEqual([[null, 0], [null, 4], [null, 0], [null, 1], [null, 0]]);
  });

  it('pcapng: sections, interfaces, resolutions, offsets, EPB/SPB/PB, skipped blocks', () => {
    const { recs, summary } = fixture('sections.pcapng');
    expect(recs.map((r) => [r.ts, r.linktype, r.interfaceId])).toEqual([
      ['1700000000.123456789', 1, 0], ['1700000000.200000000', 276, 1], ['0.000000000', 1, 0], ['1700000000.300000000', 1, 0], ['1700000100.500000000', 1, 0],
    ]);
    expect(summary.interfaces).toEqual([
      { id: 0, section: 0, linktype: 1, name: 'eth0', description: 'client side', tsresolNs: 1 },
      { id: 1, section: 0, linktype: 276, name: 'any', description: null, tsresolNs: 1000 },
      { id: 0, section: 1, linktype: 1, name: 'eth1', description: null, tsresolNs: 1e9 / 2 ** 20 },
    ]);
    expect(fixture('big-endian.pcapng').recs.map((r) => r.src)).toEqual(['198.51.100.10', '2001:db8:100::10']);
  });

  it('link types: RAW (101/12/14), IPV4, IPV6, NULL both orders, LOOP, NFLOG', () => {
    for (const name of ['raw-be-nsec.pcap', 'raw12.pcap', 'ipv4-linktype.pcap']) expect(fixture(name).recs[0]).toMatchObject({ src: '198.51.100.10', sport: 41400, seq: 111 });
    expect(fixture('raw-be-nsec.pcap').recs[0].ts).toBe('1700000000.001000123');
    for (const name of ['raw14.pcap', 'ipv6-linktype.pcap']) expect(fixture(name).recs[0]).toMatchObject({ l3: 'ipv6', ttl: 58, seq: 333 });
    for (const name of ['null-le.pcap', 'null-be.pcap', 'loop.pcap']) expect(fixture(name).recs.map((r) => r.src)).toEqual(['127.0.0.1', '::1']);
    expect(fixture('nflog.pcap').recs.map((r) => [r.src, r.dport])).toEqual([['198.51.100.10', 30080], ['2001:db8:100::10', 443]]);
  });

  it('truncation and malformed packets: counted by reason with an offset, decoding goes on', () => {
    const { recs, summary } = fixture('truncated.pcap');
    expect(recs.map((r) => r.error)).toEqual([null, null, 'truncated-tcp', 'truncated-ipv4', null, 'bad-ipv4-header', 'bad-tcp-header', 'bad-udp-length', 'truncated-link']);
    expect(recs[1]).toMatchObject({ payloadLen: 105, caplen: 96, origLen: 159 });
    expect(recs[4].ppv2).toMatchObject({ src: '198.51.100.10', truncated: true });
    expect(Object.keys(summary.malformed)).toEqual(['bad-ipv4-header', 'bad-tcp-header', 'bad-udp-length', 'truncated-ipv4', 'truncated-link', 'truncated-record', 'truncated-tcp']);
    expect(summary.malformed['truncated-record'].firstOffset).toBe(readFileSync('fixtures/decode/truncated.pcap').length - 30);
  });

  it('broken containers stop with one NetlabError line naming the byte offset', () => {
    for (const [name, offset] of [['broken-magic.pcap', 0], ['broken-caplen.pcap', 102], ['broken-zero-block.pcapng', 84], ['broken-block-length.pcapng', 84], ['broken-trailer.pcapng', 164], ['broken-epb-caplen.pcapng', 100], ['broken-header.pcap', 10], ['broken-empty.pcap', 0]] as const) {
      let err: unknown;
      try { fixture(name); } catch (e) { err = e; }
      expect(err, name).toBeInstanceOf(NetlabError);
      expect((err as NetlabError).where).toBe(`input: byte ${offset}`);
      expect((err as NetlabError).oneLine()).not.toContain('\n');
    }
  });
});

describe('PacketDecoder reassembly of split PROXY headers', () => {
  const hdr = ppv2({ command: 'PROXY', family: 'inet', src: '198.51.100.10', dst: '203.0.113.10', sport: 1000, dport: 80 });
  const segment = (sport: number, seq: number, payload: Uint8Array) =>
    ethernet(ip('172.18.1.10', '10.244.1.5', 6, tcp({ src: '172.18.1.10', dst: '10.244.1.5', sport, dport: 8080, seq, flags: FLAGS.ACK | FLAGS.PSH, payload })), 0x0800);
  const file = (frames: Uint8Array[]) => pcapFile({ linktype: 1 }, frames.map((data, i) => ({ sec: 1, frac: i, data })));

  it('tracks at most maxFlows flows, evicting the oldest', () => {
    const firsts = [1, 2, 3].map((i) => segment(40000 + i, 100, hdr.subarray(0, 10)));
    const rests = [1, 2, 3].map((i) => segment(40000 + i, 110, hdr.subarray(10)));
    const { recs } = decode(file([...firsts, ...rests]), { maxFlows: 2 });
    expect(recs.slice(3).map((r) => r.ppv2 !== null)).toEqual([false, true, true]);
  });

  it('ignores a retransmission, and gives up on a gap', () => {
    const { recs } = decode(file([segment(41000, 100, hdr.subarray(0, 10)), segment(41000, 100, hdr.subarray(0, 10)), segment(41000, 110, hdr.subarray(10))]));
    expect(recs[2].ppv2).toMatchObject({ reassembled: true, sport: 1000 });
    const gap = decode(file([segment(41001, 100, hdr.subarray(0, 10)), segment(41001, 111, hdr.subarray(11))]));
    expect(gap.recs[1].ppv2).toBeNull();
  });

  it('can be turned off', () => {
    const { recs } = decode(file([segment(41002, 100, hdr.subarray(0, 10)), segment(41002, 110, concat(hdr.subarray(10)))]), { reassemble: false });
    expect(recs[0].error).toBe('proxy-header-incomplete');
    expect(recs[1].ppv2).toBeNull();
  });
});
