import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawnDetached } from '../../../cluster/exec/exec.js';
import { stopProcesses } from '../../../cluster/lab/processes.js';

// The echo server runs in a namespace of its own; the test's client runs in the same namespace.
const ns = `t${randomBytes(2).toString('hex')}-echo`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-echo-'));
const pids: number[] = [];

const CLIENT = `
const net = require('node:net');
const [port, mode] = process.argv.slice(1);
const sig = Buffer.from([0x0d,0x0a,0x0d,0x0a,0x00,0x0d,0x0a,0x51,0x55,0x49,0x54,0x0a]);
const addr = Buffer.from([0x21,0x11,0x00,0x0c, 198,51,100,10, 127,0,0,1, 0xa1,0x12, 0x1f,0x90]);
const s = net.connect(Number(port), '127.0.0.1', () => {
  if (mode === 'ppv2') s.write(Buffer.concat([sig, addr]));
  s.write('GET /x?y=1 HTTP/1.1\\r\\nHost: echo\\r\\nX-Forwarded-For: 203.0.113.7\\r\\nConnection: close\\r\\n\\r\\n');
});
let out = '';
s.on('data', (d) => (out += d));
s.on('close', () => process.stdout.write(out || 'CLOSED-WITHOUT-ANSWER'));
`;

async function request(port: number, mode: 'plain' | 'ppv2'): Promise<string> {
  return (await run(process.execPath, ['-e', CLIENT, String(port), mode], { netns: ns })).stdout;
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await run('ss', ['-ltnH', `sport = :${port}`], { netns: ns });
    if (r.stdout.trim()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`echo not listening on ${port}`);
}

describe('echo workload', () => {
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const script = path.resolve('dist/cluster/workloads/echo.js');
    pids.push(spawnDetached(process.execPath, [script, '--hostname', 'deploy-echo-abc-x1', '--port', '8080', '--node', 'worker', '--pod-ip', '10.244.1.2'], { netns: ns, logFile: path.join(dir, 'plain.log') }));
    pids.push(spawnDetached(process.execPath, [script, '--hostname', 'gasida-web-abc-x2', '--port', '80', '--proxy-protocol'], { netns: ns, logFile: path.join(dir, 'pp.log') }));
    await waitListening(8080);
    await waitListening(80);
  });
  afterAll(async () => {
    await stopProcesses(pids);
    await run('ip', ['netns', 'del', ns], { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers like the echoserver image: Hostname, client_address = TCP peer, headers incl. X-Forwarded-For', async () => {
    const out = await request(8080, 'plain');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(out).toContain('Hostname: deploy-echo-abc-x1');
    expect(out).toContain('\tclient_address=127.0.0.1');
    expect(out).toContain('\tx-forwarded-for=203.0.113.7');
    expect(out).toContain('\treal path=/x');
    const log = readFileSync(path.join(dir, 'plain.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.at(-1)).toMatchObject({ hostname: 'deploy-echo-abc-x1', peer: '127.0.0.1', xff: '203.0.113.7', proxyProtocol: null });
  });

  it('with --proxy-protocol reports and logs the client from the PPv2 header', async () => {
    const out = await request(80, 'ppv2');
    expect(out).toContain('\tclient_address=127.0.0.1');
    expect(out).toContain('\tproxy_protocol_client=198.51.100.10:41234');
    const log = readFileSync(path.join(dir, 'pp.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { proxyProtocol?: { src: string } });
    expect(log.at(-1)?.proxyProtocol?.src).toBe('198.51.100.10');
  });

  it('with --proxy-protocol closes connections that do not start with a header, like Apache', async () => {
    expect(await request(80, 'plain')).toBe('CLOSED-WITHOUT-ANSWER');
  });
});
