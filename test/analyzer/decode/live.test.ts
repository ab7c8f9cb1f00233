/**
 * A real capture, decoded live: two namespaces of our own joined by a veth pair, a TCP server in
 * one, a client in the other that opens with a PROXY v2 header and an HTTP request carrying
 * X-Forwarded-For; `tcpdump -i any -U -w -` in the server's namespace streams into decodeStream.
 * Needs root, ip and tcpdump; skipped otherwise.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawn, which } from '../../../cluster/exec/exec.js';
import { decodeStream, ipv4ToString, L3, PROTO, recordToContract } from '../../../analyzer/decode/index.js';
import { ppv2 } from '../../../fixtures/generate/packets.js';

const canRun = process.getuid?.() === 0 && (await which('ip')) !== null && (await which('tcpdump')) !== null;
const prefix = `t${randomBytes(2).toString('hex')}-`;
const CLIENT_NS = `${prefix}dec-client`;
const SERVER_NS = `${prefix}dec-server`;
const CLIENT_IP = '198.51.100.21';
const SERVER_IP = '198.51.100.22';

const SERVER = `
const net = require('node:net');
net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\\r\\nContent-Length: 37\\r\\n\\r\\nclient_address=' + s.remoteAddress + '\\n'))).listen(8080, '${SERVER_IP}', () => console.log('ready'));`;

describe.skipIf(!canRun)('decodeStream on a live tcpdump capture', () => {
  beforeAll(async () => {
    await run('ip', ['netns', 'add', CLIENT_NS]);
    await run('ip', ['netns', 'add', SERVER_NS]);
    await run('ip', ['link', 'add', 'veth0', 'netns', CLIENT_NS, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', SERVER_NS]);
    for (const [ns, ip] of [[CLIENT_NS, CLIENT_IP], [SERVER_NS, SERVER_IP]]) {
      await run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'veth0']);
      await run('ip', ['-n', ns, 'link', 'set', 'veth0', 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  });

  afterAll(async () => {
    for (const ns of [CLIENT_NS, SERVER_NS]) {
      const pids = (await run('ip', ['netns', 'pids', ns], { allowFailure: true })).stdout.split('\n').filter(Boolean);
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ } }
      await run('ip', ['netns', 'delete', ns], { allowFailure: true });
    }
  });

  it('sees the handshake, the PROXY v2 header, X-Forwarded-For and the echoed client_address', async () => {
    const server = spawn('node', ['-e', SERVER], { netns: SERVER_NS, buffer: false });
    await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
    const dump = spawn('tcpdump', ['-i', 'any', '--immediate-mode', '-U', '-n', '-w', '-', 'tcp', 'port', '8080'], { netns: SERVER_NS, buffer: false });
    const listening = new Promise<void>((resolve) => dump.stderr!.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) resolve(); }));
    const records: Record<string, unknown>[] = [];
    let synSeen = false;
    const decoding = decodeStream(dump.stdout!, (rec) => {
      records.push(recordToContract(rec));
      if (rec.l3 === L3.IPV4 && rec.proto === PROTO.TCP && (rec.tcpFlags & 0x12) === 0x02 && ipv4ToString(rec.src4) === CLIENT_IP) synSeen = true;
    }, { source: 'tcpdump' });
    await listening;
    // tcpdump says "listening" a moment before its socket sees packets: probe until one shows up.
    const probe = `const s = require('node:net').connect(8080, '${SERVER_IP}', () => s.destroy()); s.on('error', () => {});`;
    for (let i = 0; i < 50 && records.length === 0; i++) {
      await run('node', ['-e', probe], { netns: CLIENT_NS, timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 100));
    }

    const header = Buffer.from(ppv2({ command: 'PROXY', family: 'inet', src: '203.0.113.77', dst: '203.0.113.10', sport: 50505, dport: 80, crc: 'good' })).toString('base64');
    const client = `
const net = require('node:net');
const s = net.connect(8080, '${SERVER_IP}', () => s.write(Buffer.concat([Buffer.from('${header}', 'base64'), Buffer.from('GET / HTTP/1.1\\r\\nHost: echo\\r\\nX-Forwarded-For: 203.0.113.77\\r\\n\\r\\n')])));
s.on('data', (d) => process.stdout.write(d)); s.on('end', () => s.end());`;
    const reply = await run('node', ['-e', client], { netns: CLIENT_NS, timeoutMs: 10_000 });
    expect(reply.stdout).toContain(`client_address=${CLIENT_IP}`);
    // Give tcpdump a moment to flush the last packets, then stop it: the stream ends, decoding finishes.
    await new Promise((r) => setTimeout(r, 500));
    dump.kill('SIGINT');
    const summary = await decoding;

    expect(synSeen).toBe(true);
    expect(summary.linktypes).toEqual({ LINUX_SLL2: summary.packets });
    const withPpv2 = records.filter((r) => r.ppv2 !== null);
    expect(withPpv2).toHaveLength(1);
    expect(withPpv2[0]).toMatchObject({ src: CLIENT_IP, dst: SERVER_IP, dport: 8080, ppv2: { version: 2, command: 'PROXY', src: '203.0.113.77', sport: 50505, crc32c: 'ok' }, http: { xForwardedFor: '203.0.113.77' } });
    expect(records.some((r) => (r.http as { clientAddress?: string } | null)?.clientAddress === CLIENT_IP)).toBe(true);
    expect(records.every((r) => typeof r.ifindex === 'number' && r.error === null)).toBe(true);
    await server.kill();
  });
});
