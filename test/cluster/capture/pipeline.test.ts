/**
 * Capture → manifest → analyze on a real two-namespace path with a real DNAT: the pieces of
 * `netlab capture` joined without the whole lab.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../analyzer/analyze.js';
import { toContractJson } from '../../../analyzer/report/json.js';
import { run, spawn } from '../../../cluster/exec/exec.js';
import { startGroundTruth } from '../../../cluster/capture/groundtruth.js';
import { buildManifest, writeManifest } from '../../../cluster/capture/manifest.js';
import { startTcpdump } from '../../../cluster/capture/tcpdump.js';
import { startCap } from '../../../cluster/capture/cap.js';
import type { CaptureTarget } from '../../../cluster/capture/points.js';
import { makeChain, type Chain } from '../../helpers/pair.js';

describe.skipIf(process.getuid?.() !== 0)('capture → analyze on a real DNAT', () => {
  let pair: Chain;
  let out: string;
  beforeAll(async () => {
    pair = await makeChain();
    // b plays a node: traffic to its :80 is DNATed to the "pod" c on :8080, as kube-proxy would.
    await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '10.78.0.2:8080'], { netns: pair.b });
  });
  afterAll(async () => {
    await pair?.destroy();
  });

  for (const capturer of ['tcpdump', 'cap'] as const) {
    it(`finds the DNAT hop and the client IP at the backend (${capturer})`, async () => {
      out = await mkdtemp(path.join(os.tmpdir(), 'netlab-pipe-'));
      try {
        const server = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.end('client_address='+q.socket.remoteAddress+'\\n')).listen(8080,()=>console.log('up'))"], { netns: pair.c, stdout: 'pipe', buffer: false });
        await new Promise<void>((r) => server.stdout?.on('data', () => r()));
        const targets: CaptureTarget[] = [
          { name: 'client', role: 'client', netns: pair.a, node: null, pod: null, namespace: null, interfaces: ['eth0'] },
          { name: 'box', role: 'node', netns: pair.b, node: 'box', pod: null, namespace: null, interfaces: ['eth0', 'vethpod'] },
          { name: 'pod', role: 'pod', netns: pair.c, node: 'box', pod: 'echo', namespace: 'default', interfaces: ['eth0'] },
        ];
        const gt = await startGroundTruth([{ netns: pair.b, name: 'box' }], out);
        const cap = capturer === 'tcpdump' ? await startTcpdump(targets, out, 'tcp') : await startCap(targets, out, 'tcp');
        const client = "const http=require('http');(async()=>{for(let i=0;i<10;i++){await new Promise(r=>http.get({host:'10.77.0.2',port:80,agent:false},s=>{s.resume();s.on('end',r)}))}})()";
        await run(process.execPath, ['-e', client], { netns: pair.a });
        const files = await cap.stop();
        const truth = await gt.stop();
        server.kill();
        await server;
        const manifest = buildManifest(out, files, truth, { addresses: { '10.77.0.2': { node: 'box', role: 'node' }, '10.78.0.2': { pod: 'echo', node: 'box', role: 'pod' } }, healthCheckPorts: [], clients: ['10.77.0.1'] });
        await writeManifest(out, manifest);
        const report = toContractJson(await analyze({ dir: out }));
        expect(report.summary.flows).toBe(10);
        for (const f of report.flows) {
          expect(f.client.ip).toBe('10.77.0.1');
          expect(f.frontend).toMatchObject({ ip: '10.77.0.2', port: 80 });
          expect(f.backend).toMatchObject({ ip: '10.78.0.2', port: 8080, pod: 'echo' });
          expect(f.hops.map((h) => h.translation)).toContain('dnat');
          expect(f.verdict.clientIpAtBackend).toBe('peer');
        }
      } finally {
        if (!process.env.KEEP) await rm(out, { recursive: true, force: true });
      }
    });
  }
});
