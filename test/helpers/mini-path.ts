/**
 * A real, small instance-mode path in throwaway namespaces, captured at every point:
 *
 *   client 198.51.100.10 → nlb (DNAT 203.0.113.10:80 → 172.18.0.3:31234, client IP kept)
 *     → worker eth0 172.18.0.3 (kube-proxy-like DNAT → 10.244.1.5:8080 + MASQUERADE)
 *     → worker veth → pod echo 10.244.1.5:8080
 *
 * Captures, in the formats netlab meets: client pcap (µs), nlb pcap (ns), worker `-i any`
 * (LINUX_SLL2, split by the manifest's ifindex map), pod pcapng (dumpcap). Writes manifest.json.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../cluster/exec/exec.js';
import type { Manifest } from '../../analyzer/manifest/manifest.js';
import { TestNetns, waitForStderr } from './netns.js';

async function ifindex(ns: string, dev: string): Promise<string> {
  return (await run('cat', [`/sys/class/net/${dev}/ifindex`], { netns: ns })).stdout.trim();
}

export async function captureMiniInstancePath(lab: TestNetns, dir: string, requests: number): Promise<Manifest> {
  const client = await lab.add('client');
  const nlb = await lab.add('nlb');
  const worker = await lab.add('worker');
  const pod = await lab.add('echo');
  await lab.link(client, 'eth0', '198.51.100.10/24', nlb, 'eth0', '198.51.100.1/24');
  await lab.link(nlb, 'eth1', '172.18.1.10/16', worker, 'eth0', '172.18.0.3/16');
  await lab.link(worker, 'veth1a2b3c4d', '10.244.1.1/24', pod, 'eth0', '10.244.1.5/24');
  await run('ip', ['-n', client, 'route', 'add', 'default', 'via', '198.51.100.1']);
  await run('ip', ['-n', worker, 'route', 'add', '198.51.100.0/24', 'via', '172.18.1.10']);
  await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '10.244.1.1']);
  for (const ns of [nlb, worker]) await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { netns: ns });
  await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-d', '203.0.113.10', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '172.18.0.3:31234'], { netns: nlb });
  await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '31234', '-j', 'DNAT', '--to-destination', '10.244.1.5:8080'], { netns: worker });
  await run('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'veth1a2b3c4d', '-j', 'MASQUERADE'], { netns: worker });

  lab.start(pod, 'python3', ['-m', 'http.server', '8080', '--bind', '10.244.1.5', '--directory', dir]);
  for (let i = 0; i < 100; i++) {
    if ((await run('ss', ['-Hltn', 'sport = :8080'], { netns: pod })).stdout.trim()) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const workerIfs = { [await ifindex(worker, 'eth0')]: 'eth0', [await ifindex(worker, 'veth1a2b3c4d')]: 'veth1a2b3c4d' };
  // Immediate mode: otherwise tcpdump holds packets in its 1 s buffer and a SIGINT loses them.
  const tcpdump = ['--immediate-mode', '-U', '-n'];
  const caps = [
    lab.start(client, 'tcpdump', [...tcpdump, '-i', 'eth0', '-w', path.join(dir, 'client.pcap'), 'tcp']),
    lab.start(nlb, 'tcpdump', [...tcpdump, '-i', 'eth1', '--time-stamp-precision', 'nano', '-w', path.join(dir, 'nlb.pcap'), 'tcp']),
    lab.start(worker, 'tcpdump', [...tcpdump, '-i', 'any', '-w', path.join(dir, 'worker-any.pcap'), 'tcp']),
    lab.start(pod, 'dumpcap', ['-q', '-i', 'eth0', '-f', 'tcp', '-w', path.join(dir, 'echo.pcapng')]),
  ];
  await Promise.all(caps.map((c, i) => waitForStderr(c, i === 3 ? 'Capturing on' : 'listening on')));
  for (let i = 0; i < requests; i++) {
    await run('curl', ['-s', '-o', '/dev/null', '--max-time', '10', 'http://203.0.113.10/'], { netns: client });
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const c of caps) c.kill('SIGINT');
  await Promise.all(caps.map((c) => c.catch(() => undefined)));

  const manifest: Manifest = {
    version: 1,
    points: [
      { name: 'client', file: 'client.pcap', role: 'client', namespace: client, interface: 'eth0' },
      { name: 'nlb', file: 'nlb.pcap', role: 'lb', namespace: nlb, interface: 'eth1' },
      { name: 'worker', file: 'worker-any.pcap', role: 'node', node: 'worker', namespace: worker, interface: 'any', ifindex: workerIfs },
      { name: 'echo', file: 'echo.pcapng', role: 'pod', node: 'worker', pod: 'echo', namespace: pod, interface: 'eth0' },
    ],
    addresses: {
      '10.244.1.5': { pod: 'echo', node: 'worker', role: 'pod' },
      '172.18.0.3': { node: 'worker', role: 'node' },
    },
  };
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
