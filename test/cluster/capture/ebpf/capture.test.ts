/**
 * Lab test (root): a real DNAT path in throwaway namespaces, real HTTP traffic, the real probe.
 * Checks that each packet shows up on every device of the traced namespaces, before and after
 * the DNAT, under the right names, and that nothing outside the filter is reported.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKEND, CLIENT_IP, FRONTEND, OUTSIDE, ROUTER_CLIENT_SIDE, createDnatTestbed, dnatTestbedPlan, uniquePrefix, type Testbed,
} from '../../../../bench/testbed/dnat.js';
import { httpRequests, startEchoServer, type RunningServer } from '../../../../bench/testbed/http.js';
import { startEbpfCapture, type EbpfCaptureSummary } from '../../../../cluster/capture/ebpf/capture.js';
import { netnsInode, resolveNamespaces } from '../../../../cluster/capture/ebpf/netns.js';
import type { EbpfPacketRecord } from '../../../../cluster/capture/ebpf/record.js';
import { TCP_FLAG } from '../../../../analyzer/decode/record.js';
import { spawn, run, which } from '../../../../cluster/exec/exec.js';
import { ebpfCapturedFiles, ebpfManifestPoints } from '../../../../cluster/capture/ebpf/manifest.js';
import { startEbpfCapturer } from '../../../../cluster/capture/ebpf/capturer.js';
import { onlineCpus, perfEventFds } from '../../../../cluster/capture/ebpf/attach.js';
import { analyze } from '../../../../analyzer/analyze.js';
import { toContractJson } from '../../../../analyzer/report/json.js';
import type { Manifest } from '../../../../analyzer/manifest/manifest.js';
import type { PointRole } from '../../../../analyzer/hops/types.js';

const isRoot = process.getuid?.() === 0;
const bpftrace = await which('bpftrace');
const tshark = await which('tshark');
const canTrace = isRoot && bpftrace !== null && existsSync('/sys/kernel/btf/vmlinux') && existsSync('/sys/kernel/tracing/events/net');

const ip4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

interface Seen {
  point: string;
  inode: number;
  dir: 'rx' | 'tx';
  skb: number;
  src: string;
  dst: string;
  ipId: number;
  ttl: number;
  seq: number;
  flags: number;
  payloadLen: number;
  payloadHash: number;
  method: string | null;
}

function keep(rec: EbpfPacketRecord, point: string): Seen {
  return {
    point,
    inode: rec.netnsInode,
    dir: rec.dir === 1 ? 'tx' : 'rx',
    skb: rec.skb,
    src: `${ip4(rec.src4)}:${rec.sport}`,
    dst: `${ip4(rec.dst4)}:${rec.dport}`,
    ipId: rec.ipId,
    ttl: rec.ttl,
    seq: rec.seq,
    flags: rec.tcpFlags,
    payloadLen: rec.payloadLen,
    payloadHash: rec.payloadHash,
    method: rec.http.present && rec.http.isRequest ? Buffer.from(rec.bytes.subarray(rec.http.methodOff, rec.http.methodOff + rec.http.methodLen)).toString() : null,
  };
}

/** Resolves when tcpdump says it listens; fails with what it said instead after 30 s. */
function listening(stderr: NodeJS.ReadableStream | null): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${said}`)), 30_000);
    stderr?.on('data', (d: Buffer) => {
      said += String(d);
      if (said.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

describe('dnatTestbedPlan', () => {
  it('is the same plan for the same prefix', () => {
    expect(dnatTestbedPlan('tabcd-')).toMatchSnapshot();
  });
});

describe.skipIf(!canTrace)('startEbpfCapture on a real DNAT path', () => {
  const prefix = uniquePrefix();
  const outDir = mkdtempSync(path.join(tmpdir(), 'netlab-ebpf-lab-'));
  let bed: Testbed | undefined;
  const servers: RunningServer[] = [];
  const seen: Seen[] = [];
  let summary: EbpfCaptureSummary;
  let bodies: string[] = [];
  let inodes: Record<string, number> = {};
  const ifindexes: Record<string, Record<string, string>> = {};
  const REQUESTS = 5;
  const ROLES: Record<string, { role: PointRole; pod?: string }> = { client: { role: 'client' }, router: { role: 'lb' }, server: { role: 'pod', pod: 'server' } };

  beforeAll(async () => {
    bed = await createDnatTestbed(prefix);
    const ns = bed.plan.namespaces;
    servers.push(await startEchoServer(ns.server, BACKEND.ip, BACKEND.port));
    servers.push(await startEchoServer(ns.outsideB, OUTSIDE.b, BACKEND.port));
    // Same namespaces, a port outside the filter.
    servers.push(await startEchoServer(ns.router, ROUTER_CLIENT_SIDE, 9999));

    const traced = await resolveNamespaces([ns.client, ns.router, ns.server], (n) => n.slice(prefix.length));
    inodes = Object.fromEntries(traced.map((t) => [t.name, t.inode]));
    const capture = await startEbpfCapture({
      namespaces: traced,
      ports: [FRONTEND.port, BACKEND.port],
      outDir: path.join(outDir, 'ebpf'),
      onRecord: (rec, point) => seen.push(keep(rec, point.name)),
    });
    // The pcap source on the same traffic, for the analyzer comparison.
    mkdirSync(path.join(outDir, 'pcap'));
    const tcpdumps = [ns.client, ns.router, ns.server].map((n) =>
      // --immediate-mode: without it packets still in libpcap's last TPACKET_V3 block are dropped at exit.
      spawn('tcpdump', ['-i', 'any', '--immediate-mode', '-n', '-s', '0', '-w', path.join(outDir, 'pcap', `${n.slice(prefix.length)}.pcap`), 'tcp', 'port', '80', 'or', 'tcp', 'port', '8080'], {
        netns: n, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false,
      }),
    );
    try {
      await Promise.all(tcpdumps.map((t) => listening(t.stderr)));
      await capture.ready;
      bodies = await httpRequests(ns.client, FRONTEND.ip, FRONTEND.port, REQUESTS);
      await httpRequests(ns.outsideA, OUTSIDE.b, BACKEND.port, 3);
      await httpRequests(ns.client, ROUTER_CLIENT_SIDE, 9999, 2);
    } finally {
      summary = await capture.stop();
      for (const t of tcpdumps) t.kill('SIGINT');
      await Promise.all(tcpdumps);
    }
    for (const n of [ns.client, ns.router, ns.server]) {
      const links = JSON.parse((await run('ip', ['-j', 'link'], { netns: n })).stdout) as Array<{ ifindex: number; ifname: string }>;
      ifindexes[n.slice(prefix.length)] = Object.fromEntries(links.map((l) => [String(l.ifindex), l.ifname]));
    }
  });

  afterAll(async () => {
    for (const s of servers) s.stop();
    await bed?.destroy();
    rmSync(outDir, { recursive: true, force: true });
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(left).not.toContain(prefix);
  });

  it('carries real requests through the DNAT (the server sees the client IP)', () => {
    expect(bodies).toEqual(Array(REQUESTS).fill(`client_address: ${CLIENT_IP}`));
  });

  it('names one point per namespace and device, with the namespace inode it came from', async () => {
    expect(summary.points.map((p) => p.name).sort()).toEqual(['client:eth0', 'router:eth0', 'router:eth1', 'server:eth0']);
    for (const p of summary.points) expect(p.netnsInode).toBe(inodes[p.namespace]);
    // The same inode `stat -L -c %i /run/netns/NAME` reports.
    for (const name of ['client', 'router', 'server']) {
      expect(inodes[name]).toBe(Number(execFileSync('stat', ['-L', '-c', '%i', `/run/netns/${prefix}${name}`], { encoding: 'utf8' })));
    }
    expect(inodes.router).toBe(await netnsInode(`${prefix}router`));
    expect(summary.lost).toBe(0);
    expect(summary.malformed).toBe(0);
    expect(summary.events).toBe(seen.length);
  });

  it('reports nothing from untraced namespaces or unfiltered ports', () => {
    const traced = new Set(Object.values(inodes));
    expect(seen.filter((s) => !traced.has(s.inode))).toEqual([]);
    expect(seen.filter((s) => s.src.endsWith(':9999') || s.dst.endsWith(':9999'))).toEqual([]);
    expect(seen.filter((s) => s.src.startsWith('10.244.250.') || s.dst.startsWith('10.244.250.'))).toEqual([]);
  });

  it('shows every SYN on all four devices, before and after the DNAT, with the same IP ID and sequence', () => {
    const syns = seen.filter((s) => s.point === 'client:eth0' && s.dir === 'tx' && s.flags === TCP_FLAG.SYN);
    expect(syns).toHaveLength(REQUESTS);
    for (const syn of syns) {
      const same = seen.filter((s) => s.seq === syn.seq && s.ipId === syn.ipId && s.flags === TCP_FLAG.SYN);
      const at = (point: string, dir: 'rx' | 'tx') => same.filter((s) => s.point === point && s.dir === dir);
      expect(syn).toMatchObject({ dst: `${FRONTEND.ip}:${FRONTEND.port}`, ttl: 64 });
      expect(at('router:eth1', 'rx')).toEqual([expect.objectContaining({ src: syn.src, dst: `${FRONTEND.ip}:${FRONTEND.port}`, ttl: 64 })]);
      expect(at('router:eth0', 'tx')).toEqual([expect.objectContaining({ src: syn.src, dst: `${BACKEND.ip}:${BACKEND.port}`, ttl: 63 })]);
      expect(at('server:eth0', 'rx')).toEqual([expect.objectContaining({ src: syn.src, dst: `${BACKEND.ip}:${BACKEND.port}`, ttl: 63 })]);
      // Inside the router the skb is the same object from receive to transmit.
      expect(at('router:eth0', 'tx')[0].skb).toBe(at('router:eth1', 'rx')[0].skb);
    }
  });

  it('shows each HTTP request with the same payload at every point, and the reply un-NATed', () => {
    const requests = seen.filter((s) => s.method === 'GET');
    const byPoint = new Map<string, number>();
    for (const r of requests) byPoint.set(`${r.point} ${r.dir}`, (byPoint.get(`${r.point} ${r.dir}`) ?? 0) + 1);
    expect(Object.fromEntries(byPoint)).toEqual({
      'client:eth0 tx': REQUESTS, 'router:eth1 rx': REQUESTS, 'router:eth0 tx': REQUESTS, 'server:eth0 rx': REQUESTS,
    });
    for (const r of requests.filter((s) => s.point === 'client:eth0')) {
      expect(new Set(requests.filter((s) => s.seq === r.seq).map((s) => s.payloadHash))).toEqual(new Set([r.payloadHash]));
    }
    const replies = seen.filter((s) => s.point === 'server:eth0' && s.dir === 'tx' && s.payloadLen > 0);
    expect(replies.length).toBeGreaterThanOrEqual(REQUESTS);
    for (const reply of replies) {
      expect(reply.src).toBe(`${BACKEND.ip}:${BACKEND.port}`);
      const atClient = seen.find((s) => s.point === 'client:eth0' && s.dir === 'rx' && s.seq === reply.seq && s.ipId === reply.ipId);
      expect(atClient?.src).toBe(`${FRONTEND.ip}:${FRONTEND.port}`);
      expect(atClient?.ttl).toBe(reply.ttl - 1);
    }
  });

  it('gives the analyzer the same hops, translations and verdicts as tcpdump on the same traffic', async () => {
    const ebpfManifest: Manifest = { version: 1, points: ebpfManifestPoints(summary.points, (n) => ROLES[n]) };
    writeFileSync(path.join(outDir, 'ebpf', 'manifest.json'), JSON.stringify(ebpfManifest));
    const pcapManifest: Manifest = {
      version: 1,
      points: Object.entries(ROLES).map(([name, r]) => ({
        name, file: `${name}.pcap`, role: r.role, pod: r.pod ?? null, namespace: name, interface: 'any', linktype: 276, ifindex: ifindexes[name],
      })),
    };
    writeFileSync(path.join(outDir, 'pcap', 'manifest.json'), JSON.stringify(pcapManifest));
    const shape = (r: ReturnType<typeof toContractJson>) =>
      r.flows
        .map((f) => ({
          client: `${f.client.ip}`,
          frontend: f.frontend,
          backend: { ip: f.backend.ip, port: f.backend.port, pod: f.backend.pod },
          hops: f.hops.map((h) => `${h.point} ${h.src.replace(/:\d+$/, ':*')} → ${h.dst} ttl ${h.ttl} ${h.translation}${h.by ? ` by ${h.by}` : ''}`),
          verdict: f.verdict,
        }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const fromEbpf = toContractJson(await analyze({ dir: path.join(outDir, 'ebpf') }));
    const fromPcap = toContractJson(await analyze({ dir: path.join(outDir, 'pcap') }));
    // A loaded machine may retry a connection: whatever happened, both sources must show it alike.
    expect(fromEbpf.flows.length).toBeGreaterThanOrEqual(REQUESTS);
    expect(shape(fromEbpf)).toEqual(shape(fromPcap));
    expect(fromEbpf.summary.clientIpAtBackend).toEqual(fromPcap.summary.clientIpAtBackend);
    expect(fromEbpf.summary.clientIpAtBackend.peer).toBeGreaterThanOrEqual(REQUESTS);
    // The DNAT is where the router's two devices meet.
    expect(shape(fromEbpf)[0].hops).toContainEqual(expect.stringMatching(/^router:eth0 198\.51\.100\.10:\* → 172\.18\.0\.2:8080 ttl 63 dnat/));
  });

  it.skipIf(!tshark)('writes one pcapng per point that tshark reads packet for packet', () => {
    for (const p of summary.points) {
      const out = execFileSync(tshark!, ['-n', '-r', path.join(outDir, 'ebpf', p.file!), '-T', 'fields', '-e', 'frame.interface_name', '-e', 'ip.dst'], { encoding: 'utf8' });
      const rows = out.trim().split('\n');
      expect(rows).toHaveLength(p.packets);
      expect(new Set(rows.map((r) => r.split('\t')[0]))).toEqual(new Set([p.name]));
    }
    const merged = execFileSync(tshark!, ['-n', '-r', path.join(outDir, 'ebpf', 'ebpf.pcapng'), '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' });
    expect(merged.trim().split('\n')).toHaveLength(summary.events);
  });
});

describe.skipIf(!canTrace)('startEbpfCapture on part of the path', () => {
  const prefix = uniquePrefix();
  let bed: Testbed | undefined;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    bed = await createDnatTestbed(prefix);
    server = await startEchoServer(bed.plan.namespaces.server, BACKEND.ip, BACKEND.port);
  });

  afterAll(async () => {
    server?.stop();
    await bed?.destroy();
  });

  it('shows the NAT inside the router even when only the router is traced', async () => {
    const ns = bed!.plan.namespaces;
    const seen: Seen[] = [];
    const capture = await startEbpfCapture({
      namespaces: [{ name: 'router', inode: await netnsInode(ns.router) }],
      ports: [FRONTEND.port, BACKEND.port],
      onRecord: (rec, point) => seen.push(keep(rec, point.name)),
    });
    let summary: EbpfCaptureSummary;
    try {
      await capture.ready;
      // Ready means the kernel holds both tracepoints (plus one output buffer per CPU).
      expect(await perfEventFds(capture.pid!)).toBeGreaterThanOrEqual((await onlineCpus()) + 2);
      await httpRequests(ns.client, FRONTEND.ip, FRONTEND.port, 2);
    } finally {
      summary = await capture.stop();
    }
    expect(summary.points.map((p) => p.name).sort()).toEqual(['router:eth0', 'router:eth1']);
    const before = seen.filter((s) => s.point === 'router:eth1' && s.dir === 'rx' && s.flags === TCP_FLAG.SYN);
    expect(before).toHaveLength(2);
    for (const b of before) {
      const after = seen.find((s) => s.point === 'router:eth0' && s.dir === 'tx' && s.skb === b.skb && s.seq === b.seq);
      expect(b.dst).toBe(`${FRONTEND.ip}:${FRONTEND.port}`);
      expect(after).toMatchObject({ src: b.src, dst: `${BACKEND.ip}:${BACKEND.port}`, ipId: b.ipId, ttl: b.ttl - 1 });
    }
  });

  it('traces a namespace made after it started, names it, keeps request heads, and filters by address', async () => {
    const late = `${prefix}late`;
    const outDir = mkdtempSync(path.join(tmpdir(), 'netlab-ebpf-late-'));
    const xff: Array<{ point: string; value: string; payloadLen: number; caplen: number }> = [];
    const points = new Set<string>();
    const addresses = new Set<string>();
    const capture = await startEbpfCapture({
      namespaces: [{ name: 'router', inode: await netnsInode(bed!.plan.namespaces.router) }],
      ports: [],
      learnNetnsPrefix: prefix,
      addresses: ['198.51.100.0/24', '203.0.113.0/24', '172.18.0.0/16'],
      requestHeadBytes: 256,
      outDir,
      onRecord: (rec, point) => {
        points.add(point.name);
        addresses.add(ip4(rec.src4)).add(ip4(rec.dst4));
        if (rec.http.present && rec.http.xffOff >= 0) {
          xff.push({ point: point.name, value: Buffer.from(rec.bytes.subarray(rec.http.xffOff, rec.http.xffOff + rec.http.xffLen)).toString(), payloadLen: rec.payloadLen, caplen: rec.caplen });
        }
      },
    });
    let summary: EbpfCaptureSummary | undefined;
    try {
      await capture.ready;
      // Born after the probe: a namespace with a lab address on lo, a server, and a client whose
      // request carries X-Forwarded-For past byte 150, as the gateway writes it.
      await run('ip', ['netns', 'add', late]);
      await run('ip', ['-n', late, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', late, 'addr', 'add', '172.18.9.9/32', 'dev', 'lo']);
      const server = await startEchoServer(late, '172.18.9.9', BACKEND.port);
      const host = `k8s-default-istioing-0123456789-0123456789abcdef.elb.lab-1.amazonaws.com`;
      try {
        for (const target of ['172.18.9.9', '127.0.0.1']) {
          await run('curl', ['-s', '-o', '/dev/null', '--max-time', '10', '-H', `Host: ${host}`, '-H', 'X-Forwarded-For: 198.51.100.10', `http://${target}:${BACKEND.port}/`], { netns: late, allowFailure: target === '127.0.0.1' });
        }
      } finally {
        server.stop();
      }
    } finally {
      summary = await capture.stop();
      await run('ip', ['netns', 'del', late], { allowFailure: true });
    }
    try {
      expect(summary.learned.map((l) => l.netns)).toEqual([late]);
      expect([...points].sort()).toEqual([`${late}:lo`]);
      // Seen leaving and entering lo: the whole head (request line, long Host, XFF) is there.
      expect(xff.length).toBeGreaterThanOrEqual(2);
      for (const x of xff) expect(x).toMatchObject({ point: `${late}:lo`, value: '198.51.100.10' });
      // 127.0.0.1 is outside the lab's ranges: not one packet of that request.
      expect([...addresses]).toEqual(['172.18.9.9']);
      const targets = [{ name: 'late-pod', netns: late }];
      const files = ebpfCapturedFiles(summary.points, targets, outDir);
      expect(files.map((f) => `${f.target.name}:${f.interface}`)).toEqual(['late-pod:lo']);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('works as the capture command\'s capturer: targets in, one captured file per device out', async () => {
    const ns = bed!.plan.namespaces;
    const outDir = mkdtempSync(path.join(tmpdir(), 'netlab-ebpf-capturer-'));
    try {
      const targets = [
        { name: 'client', netns: ns.client, role: 'client' },
        { name: 'router', netns: ns.router, role: 'lb' },
      ];
      const running = await startEbpfCapturer(targets, outDir, { ports: [FRONTEND.port, BACKEND.port] });
      await httpRequests(ns.client, FRONTEND.ip, FRONTEND.port, 1);
      const files = await running.stop();
      expect(files.map((f) => `${f.target.name}:${f.interface}`).sort()).toEqual(['client:eth0', 'router:eth0', 'router:eth1']);
      expect(files.every((f) => f.packets >= 5 && existsSync(f.file))).toBe(true);
      expect(running.summary?.lost).toBe(0);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });

});
