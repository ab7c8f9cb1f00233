import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../../cluster/exec/exec.js';
import { CaptureReader } from '../../../../analyzer/report/pcapng/reader.js';
import { writeAnnotatedPcapng, type PacketAnnotation, type PcapngPoint } from '../../../../analyzer/report/pcapng/write.js';
import { TestNetns, waitForStderr } from '../../../helpers/netns.js';

/** tshark's note about running as root is about privileges, not about the file. */
function tsharkWarnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() && !/^Running as user "root"/.test(l));
}

interface TsharkPacket {
  frame: number;
  ts: number;
  iface: string;
  comments: string[];
  src: string;
  dst: string;
  flags: string;
  /** LINUX_SLL2 interface index, NaN on other link types. */
  ifindex: number;
}

async function tsharkPackets(file: string): Promise<{ packets: TsharkPacket[]; warnings: string[] }> {
  const r = await run('tshark', ['-n', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|',
    '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.interface_name', '-e', 'frame.comment',
    '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'tcp.flags.str', '-e', 'sll.ifindex']);
  const packets = r.stdout.split('\n').filter(Boolean).map((line) => {
    const [frame, ts, iface, comment, sip, sport, dip, dport, flags, ifindex] = line.split('\t');
    return {
      frame: Number(frame),
      ts: Number(ts),
      iface: iface ?? '',
      comments: comment ? comment.split('|') : [],
      src: sport ? `${sip}:${sport}` : sip ?? '',
      dst: dport ? `${dip}:${dport}` : dip ?? '',
      flags: flags ?? '',
      ifindex: ifindex ? Number(ifindex) : NaN,
    };
  });
  return { packets, warnings: tsharkWarnings(r.stderr) };
}

async function countPackets(file: string, ifindex?: number): Promise<number> {
  const reader = CaptureReader.open(file);
  let n = 0;
  for (let r = reader.next(); r; r = reader.next()) {
    if (ifindex === undefined || ((r.data[4]! << 24) | (r.data[5]! << 16) | (r.data[6]! << 8) | r.data[7]!) === ifindex) n++;
  }
  reader.close();
  return n;
}

/**
 * A real three-namespace path: client → router (iptables DNAT 203.0.113.10:80 → 172.18.0.3:8080)
 * → server, captured at four points in the three formats the writer must merge: pcap with
 * microseconds (tcpdump), pcap with nanoseconds (tcpdump), pcapng (dumpcap), and one interface
 * cut out of an `-i any` LINUX_SLL2 capture.
 */
describe('writeAnnotatedPcapng on captures of a real DNAT path', () => {
  const lab = new TestNetns();
  const dir = mkdtempSync(path.join(tmpdir(), 'netlab-pcapng-'));
  let points: PcapngPoint[] = [];

  beforeAll(async () => {
    const client = await lab.add('client');
    const router = await lab.add('router');
    const server = await lab.add('server');
    await lab.link(client, 'eth0', '198.51.100.10/24', router, 'eth0', '198.51.100.1/24');
    await lab.link(server, 'eth0', '172.18.0.3/16', router, 'eth1', '172.18.0.1/16');
    await run('ip', ['-n', client, 'route', 'add', 'default', 'via', '198.51.100.1']);
    await run('ip', ['-n', server, 'route', 'add', 'default', 'via', '172.18.0.1']);
    await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { netns: router });
    await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-d', '203.0.113.10', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '172.18.0.3:8080'], { netns: router });
    lab.start(server, 'python3', ['-m', 'http.server', '8080', '--bind', '172.18.0.3', '--directory', dir]);
    for (let i = 0; i < 100; i++) {
      const listening = await run('ss', ['-Hltn', 'sport = :8080'], { netns: server });
      if (listening.stdout.trim()) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const r0Index = Number((await run('cat', ['/sys/class/net/eth0/ifindex'], { netns: router })).stdout);
    // Immediate mode: otherwise tcpdump holds packets in its 1 s buffer and a SIGINT loses them.
    const caps = [
      lab.start(client, 'tcpdump', ['--immediate-mode', '-U', '-n', '-i', 'eth0', '-w', path.join(dir, 'client.pcap'), 'tcp']),
      lab.start(router, 'tcpdump', ['--immediate-mode', '-U', '-n', '-i', 'eth1', '--time-stamp-precision', 'nano', '-w', path.join(dir, 'router-eth1.pcap'), 'tcp']),
      lab.start(router, 'tcpdump', ['--immediate-mode', '-U', '-n', '-i', 'any', '-w', path.join(dir, 'router-any.pcap'), 'tcp']),
      lab.start(server, 'dumpcap', ['-q', '-i', 'eth0', '-f', 'tcp', '-w', path.join(dir, 'server.pcapng')]),
    ];
    await Promise.all([
      waitForStderr(caps[0]!, 'listening on'),
      waitForStderr(caps[1]!, 'listening on'),
      waitForStderr(caps[2]!, 'listening on'),
      waitForStderr(caps[3]!, 'Capturing on'),
    ]);
    for (let i = 0; i < 3; i++) {
      await run('curl', ['-s', '-o', '/dev/null', '--max-time', '10', 'http://203.0.113.10/'], { netns: client });
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const c of caps) c.kill('SIGINT');
    await Promise.all(caps.map((c) => c.catch(() => undefined)));
    points = [
      { name: 'client', file: path.join(dir, 'client.pcap'), role: 'client', interface: 'eth0' },
      { name: 'router-eth0', file: path.join(dir, 'router-any.pcap'), role: 'lb', node: 'router', interface: 'eth0', ifindex: r0Index },
      { name: 'router-eth1', file: path.join(dir, 'router-eth1.pcap'), role: 'lb', node: 'router', interface: 'eth1' },
      { name: 'server', file: path.join(dir, 'server.pcapng'), role: 'pod', node: 'worker', pod: 'http-server', interface: 'eth0' },
    ];
  });

  afterAll(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Annotations for every SYN at every point, numbered from each input file as tshark reads it
   * (the analyzer's annotate() produces the same {point, n} pairs from its matching).
   */
  async function synAnnotations(): Promise<PacketAnnotation[]> {
    const out: PacketAnnotation[] = [];
    for (const p of points) {
      const { packets, warnings } = await tsharkPackets(p.file);
      expect(warnings).toEqual([]);
      for (const pkt of packets) {
        // In the -i any file only this point's interface counts.
        if (p.ifindex !== undefined && p.ifindex !== null && pkt.ifindex !== p.ifindex) continue;
        if (pkt.flags.includes('S') && !pkt.flags.includes('A')) {
          out.push({ point: p.name, n: pkt.frame, comment: `SYN at ${p.name}: ${pkt.src} → ${pkt.dst}` });
        }
      }
    }
    return out;
  }

  it('merges every point in time order, one named interface per point, comments on the annotated packets', async () => {
    const annotations = await synAnnotations();
    expect(annotations.filter((a) => a.point === 'server')).toHaveLength(3);
    expect(annotations).toHaveLength(12);
    // A second comment on one packet must show up as a second opt_comment.
    annotations.push({ point: 'router-eth1', n: annotations.find((a) => a.point === 'router-eth1')!.n, comment: 'DNAT 203.0.113.10:80 → 172.18.0.3:8080 by router' });
    const out = path.join(dir, 'merged.pcapng');
    const result = await writeAnnotatedPcapng(out, points, annotations);

    const expectedPerPoint = await Promise.all(points.map((p) => countPackets(p.file, p.ifindex ?? undefined)));
    expect(result.packets).toBe(expectedPerPoint.reduce((a, b) => a + b, 0));
    expect(result.unmatched).toEqual([]);
    expect(result.interfaces).toBe(4);

    const { packets, warnings } = await tsharkPackets(out);
    expect(warnings).toEqual([]);
    expect(packets).toHaveLength(result.packets);
    for (const [i, p] of points.entries()) expect(packets.filter((k) => k.iface === p.name)).toHaveLength(expectedPerPoint[i]!);
    // Time order across points. Within one point the capture's own order is kept: tcpdump -i any
    // can stamp two packets handled on different CPUs a fraction of a microsecond out of order,
    // and a k-way merge never reorders one input — so only a change of point must not go back.
    for (let i = 1; i < packets.length; i++) {
      if (packets[i]!.iface !== packets[i - 1]!.iface) expect(packets[i]!.ts, `frame ${packets[i]!.frame}`).toBeGreaterThanOrEqual(packets[i - 1]!.ts);
    }

    // Every comment sits on a packet of its point whose addresses are the ones the comment names.
    for (const a of annotations) {
      const carriers = packets.filter((k) => k.comments.includes(a.comment));
      expect(carriers, a.comment).toHaveLength(1);
      expect(carriers[0]!.iface).toBe(a.point);
      if (a.comment.startsWith('SYN')) {
        expect(a.comment).toBe(`SYN at ${a.point}: ${carriers[0]!.src} → ${carriers[0]!.dst}`);
        expect(carriers[0]!.flags).toContain('S');
      }
    }
    const both = packets.filter((k) => k.comments.length === 2);
    expect(both).toHaveLength(1);
    expect(both[0]!.dst).toBe('172.18.0.3:8080');
    // The DNAT is visible in the merged file: the client's SYN goes to the frontend, the server's arrives at the backend.
    expect(packets.filter((k) => k.iface === 'client' && k.comments.length > 0).every((k) => k.dst === '203.0.113.10:80')).toBe(true);
    expect(packets.filter((k) => k.iface === 'server' && k.comments.length > 0).every((k) => k.dst === '172.18.0.3:8080')).toBe(true);

    // Interface blocks: names, descriptions, link types and timestamp resolutions survive.
    const info = (await run('capinfos', ['-M', out])).stdout;
    expect(info).toMatch(/Name = client\n\s+Description = role=client if=eth0\n\s+Encapsulation = Ethernet \(1[^)]*\)\n[\s\S]*?Time precision = microseconds \(6\)/);
    expect(info).toMatch(/Name = router-eth0\n\s+Description = role=lb node=router if=eth0\n\s+Encapsulation = Linux cooked-mode capture v2 \(/);
    expect(info).toMatch(/Name = router-eth1\n[\s\S]*?Time precision = nanoseconds \(9\)/);
    expect(info).toMatch(/Name = server\n\s+Description = role=pod node=worker pod=http-server if=eth0/);
    expect(statSync(out).size).toBeGreaterThan(0);
  });

  it('reports annotations that name no packet instead of dropping them silently', async () => {
    const out = path.join(dir, 'unmatched.pcapng');
    const result = await writeAnnotatedPcapng(out, points.slice(0, 1), [
      { point: 'client', n: 1_000_000, comment: 'past the end' },
      { point: 'nowhere', n: 1, comment: 'unknown point' },
    ]);
    expect(result.unmatched.map((a) => a.comment)).toEqual(['past the end', 'unknown point']);
  });
});
