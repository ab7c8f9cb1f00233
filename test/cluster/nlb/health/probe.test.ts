/**
 * The health-check probes against real servers, inside a namespace this test makes: HTTP success
 * codes, refused connections, timeouts (packets dropped by iptables), and the PPv2 LOCAL header.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawn } from '../../../../cluster/exec/exec.js';

const PROBE = path.resolve('dist/cluster/nlb/health/probe.js');
const ns = `t${randomBytes(2).toString('hex')}-probe`;
const dir = mkdtempSync(path.join(tmpdir(), 'netlab-probe-'));
let serverPid: number | undefined;

const SERVERS = `
const http = require('node:http'); const net = require('node:net'); const fs = require('node:fs');
http.createServer((q, s) => { s.writeHead(503); s.end('no'); }).listen(8081, '127.0.0.1');
http.createServer((q, s) => { fs.writeFileSync('${dir}/ua', String(q.headers['user-agent'])); s.writeHead(q.url === '/healthz' ? 200 : 404); s.end('ok'); }).listen(8082, '127.0.0.1');
net.createServer((c) => { let got = Buffer.alloc(0); c.on('data', (d) => { got = Buffer.concat([got, d]); }); c.on('end', () => fs.writeFileSync('${dir}/tcp', got.toString('hex'))); c.on('error', () => {}); }).listen(8083, '127.0.0.1');
net.createServer(() => {}).listen(8085, '127.0.0.1');
`;

async function probe(spec: Record<string, unknown>): Promise<unknown> {
  const script = `import(${JSON.stringify(PROBE)}).then(async (m) => process.stdout.write(JSON.stringify(await m.probe(${JSON.stringify(spec)}))))`;
  const r = await run(process.execPath, ['-e', script], { netns: ns, timeoutMs: 10_000 });
  return JSON.parse(r.stdout);
}

const base = { ip: '127.0.0.1', path: null, successCodes: null, timeoutMs: 500, localAddress: '127.0.0.1', proxyProtocolV2: false };

beforeAll(async () => {
  if (!existsSync(PROBE)) throw new Error(`${PROBE} is missing: run npm run build first`);
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // Port 8085 accepts nothing: its SYNs are dropped, so the probe times out.
  await run('iptables', ['-A', 'INPUT', '-p', 'tcp', '--dport', '8085', '-j', 'DROP'], { netns: ns });
  writeFileSync(path.join(dir, 'servers.cjs'), SERVERS);
  const child = spawn(process.execPath, [path.join(dir, 'servers.cjs')], { netns: ns, detached: true, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', cleanup: false });
  child.catch(() => undefined);
  child.unref();
  serverPid = child.pid;
  for (let i = 0; i < 100; i++) {
    if ((await run('ss', ['-Hltn', 'sport = :8085'], { netns: ns })).stdout.trim()) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  if (serverPid) {
    try { process.kill(-serverPid, 'SIGKILL'); } catch { try { process.kill(serverPid, 'SIGKILL'); } catch { /* gone */ } }
  }
  for (const p of (await run('ip', ['netns', 'pids', ns], { allowFailure: true })).stdout.split('\n').filter(Boolean)) {
    try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
  }
  await run('ip', ['netns', 'del', ns], { allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('health-check probes', () => {
  it('HTTP: the status code is matched against the success codes; the ELB user agent is sent', async () => {
    expect(await probe({ ...base, protocol: 'HTTP', port: 8081, path: '/', successCodes: '200-399' })).toEqual({ ok: false, failure: 'code', code: 503 });
    expect(await probe({ ...base, protocol: 'HTTP', port: 8081, path: '/', successCodes: '200,503' })).toEqual({ ok: true, code: 503 });
    expect(await probe({ ...base, protocol: 'HTTP', port: 8082, path: '/healthz', successCodes: '200-399' })).toEqual({ ok: true, code: 200 });
    expect(readFileSync(path.join(dir, 'ua'), 'utf8')).toBe('ELB-HealthChecker/2.0');
  });

  it('TCP: refused is a failed check, a silent port is a timeout', async () => {
    expect(await probe({ ...base, protocol: 'TCP', port: 8084 })).toEqual({ ok: false, failure: 'connect', detail: 'ECONNREFUSED' });
    expect(await probe({ ...base, protocol: 'TCP', port: 8085 })).toEqual({ ok: false, failure: 'timeout' });
  });

  it('with PPv2 the check connection carries exactly a PPv2 LOCAL header', async () => {
    expect(await probe({ ...base, protocol: 'TCP', port: 8083, proxyProtocolV2: true })).toEqual({ ok: true });
    for (let i = 0; i < 50 && !existsSync(path.join(dir, 'tcp')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(path.join(dir, 'tcp'), 'utf8')).toBe('0d0a0d0a000d0a515549540a' + '20' + '00' + '0000');
  });
});
