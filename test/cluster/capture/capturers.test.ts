import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawn } from '../../../cluster/exec/exec.js';
import { startCap, capAvailable } from '../../../cluster/capture/cap.js';
import { startTcpdump, parseTcpdumpStats } from '../../../cluster/capture/tcpdump.js';
import type { CaptureTarget } from '../../../cluster/capture/points.js';
import { makePair, type Pair } from '../../helpers/pair.js';

const root = process.getuid?.() === 0;

/** A real HTTP exchange: a server in `b`, 5 requests from `a`, each a new connection. */
async function traffic(pair: Pair): Promise<void> {
  const server = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.end('ok')).listen(8080,()=>console.log('up'))"], { netns: pair.b, stdout: 'pipe', buffer: false });
  await new Promise<void>((resolve) => server.stdout?.on('data', () => resolve()));
  const client = "const http=require('http');(async()=>{for(let i=0;i<5;i++){await new Promise(r=>http.get({host:'10.77.0.2',port:8080,agent:false},s=>{s.resume();s.on('end',r)}))}})()";
  await run(process.execPath, ['-e', client], { netns: pair.a });
  server.kill();
  await server;
}

/** Count TCP SYNs (no ACK) to port 8080 in a capture file, with tcpdump as an independent reader. */
async function syns(file: string): Promise<number> {
  const r = await run('tcpdump', ['-nn', '-r', file, 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and dst port 8080']);
  return r.stdout.split('\n').filter(Boolean).length;
}

describe.skipIf(!root)('capturers (real namespaces, real traffic)', () => {
  let pair: Pair;
  let out: string;
  beforeAll(async () => {
    pair = await makePair();
    out = await mkdtemp(path.join(os.tmpdir(), 'netlab-cap-'));
  });
  afterAll(async () => {
    await pair?.destroy();
    if (out) await rm(out, { recursive: true, force: true });
  });

  const targets = (p: Pair): CaptureTarget[] => [
    { name: 'client', role: 'client', netns: p.a, node: null, pod: null, namespace: null, interfaces: ['eth0'] },
    { name: 'server', role: 'pod', netns: p.b, node: null, pod: 'server', namespace: 'default', interfaces: ['eth0'] },
  ];

  it('tcpdump -i any sees every SYN at both ends, with kernel drop counts and an ifindex map', async () => {
    const cap = await startTcpdump(targets(pair), out, 'tcp');
    await traffic(pair);
    const files = await cap.stop();
    expect(files).toHaveLength(2);
    for (const f of files) {
      expect(f.linktype).toBe(276);
      expect(f.dropped).toBe(0);
      expect(Object.values(f.ifindexMap ?? {})).toContain('eth0');
      expect(await syns(f.file)).toBe(5);
      expect(f.packets).toBeGreaterThanOrEqual(5 * 8);
    }
  });

  it('tcpdump add(): a namespace joined while running (a pod born mid-run) is captured from then on', async () => {
    const [client, server] = targets(pair);
    const cap = await startTcpdump([client!], out, 'tcp');
    await cap.add!({ ...server!, name: 'late-server' });
    await traffic(pair);
    const files = await cap.stop();
    expect(files.map((f) => f.target.name)).toEqual(['client', 'late-server']);
    for (const f of files) {
      expect(f.dropped).toBe(0);
      expect(Object.values(f.ifindexMap ?? {})).toContain('eth0');
      expect(await syns(f.file)).toBe(5);
    }
  });

  it('tcpdump keeps a burst that arrives while it is stalled (ring slots sized by the snap length)', async () => {
    const [, server] = targets(pair);
    const cap = await startTcpdump([server!], out, 'udp port 9999');
    // A loaded machine can stall tcpdump: with -s 0 the 16 MiB ring held 64 packets of this burst.
    const pids = (await run('ip', ['netns', 'pids', pair.b])).stdout.split('\n').filter(Boolean);
    for (const pid of pids) process.kill(Number(pid), 'SIGSTOP');
    const burst = "const s=require('dgram').createSocket('udp4');let n=0;const b=Buffer.alloc(100);(function f(){if(n===2000)return s.close();s.send(b,9999,'10.77.0.2',()=>{n++;f()})})()";
    await run(process.execPath, ['-e', burst], { netns: pair.a });
    for (const pid of pids) process.kill(Number(pid), 'SIGCONT');
    const [file] = await cap.stop();
    expect(file!.dropped).toBe(0);
    expect(file!.packets).toBe(2000);
    const r = await run('tcpdump', ['-nn', '-r', file!.file, 'udp dst port 9999']);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.length, `${lines.length} packets in the file; first: ${lines[0]}; last: ${lines.at(-1)}`).toBe(2000);
  });

  it.skipIf(!root)('the cap agent writes one pcap per interface with the same SYNs', async () => {
    expect(await capAvailable()).toBe(true);
    const cap = await startCap(targets(pair), out, 'tcp');
    await traffic(pair);
    const files = await cap.stop();
    expect(files.map((f) => f.interface)).toEqual(['eth0', 'eth0']);
    for (const f of files) {
      expect(f.linktype).toBe(1);
      expect(f.timestampSource).toBe('userspace');
      expect(await syns(f.file)).toBe(5);
    }
  });

  it('reads tcpdump exit statistics', () => {
    expect(parseTcpdumpStats('12 packets captured\n14 packets received by filter\n3 packets dropped by kernel\n')).toEqual({ captured: 12, dropped: 3 });
  });
});
