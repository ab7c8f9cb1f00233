import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawn } from '../../../cluster/exec/exec.js';
import { startGroundTruth } from '../../../cluster/capture/groundtruth.js';
import { makePair, type Pair } from '../../helpers/pair.js';

describe.skipIf(process.getuid?.() !== 0)('ground truth (real conntrack in a namespace)', () => {
  let pair: Pair;
  let out: string;
  beforeAll(async () => {
    pair = await makePair();
    out = await mkdtemp(path.join(os.tmpdir(), 'netlab-gt-'));
    await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '10.77.0.2:8080'], { netns: pair.b });
  });
  afterAll(async () => {
    await pair?.destroy();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('records the DNAT of a real connection in conntrack events and iptables snapshots', async () => {
    const server = spawn(process.execPath, ['-e', "require('net').createServer(s=>s.end('hi')).listen(8080,()=>console.log('up'))"], { netns: pair.b, stdout: 'pipe', buffer: false });
    await new Promise<void>((r) => server.stdout?.on('data', () => r()));
    const gt = await startGroundTruth([{ netns: pair.b, name: 'box' }], out);
    await run(process.execPath, ['-e', "const s=require('net').connect(80,'10.77.0.2');s.on('data',()=>{});s.on('end',()=>process.exit(0))"], { netns: pair.a });
    const files = await gt.stop();
    server.kill();
    await server;
    const events = await readFile(files[0]!.events, 'utf8');
    // The original tuple (to :80) and the reply tuple (from :8080) of the same connection.
    expect(events).toMatch(/\[NEW\].*src=10\.77\.0\.1 dst=10\.77\.0\.2 sport=\d+ dport=80 .*src=10\.77\.0\.2 dst=10\.77\.0\.1 sport=8080/);
    const iptBefore = await readFile(path.join(out, 'box.iptables-before.txt'), 'utf8');
    expect(iptBefore).toContain('--to-destination 10.77.0.2:8080');
    const ctAfter = await readFile(path.join(out, 'box.conntrack-after.txt'), 'utf8');
    expect(ctAfter).toMatch(/dport=80 .*sport=8080/);
  });
});
