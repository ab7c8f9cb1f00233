/**
 * analyze() on the committed real captures (fixtures/analyze/<case>/, made by
 * fixtures/generate/analyze.ts from real namespaces, iptables NAT and tcpdump): the verdicts the
 * packets must show, and the full result against the golden expected.json.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../analyzer/analyze.js';
import type { AnalysisResult, FlowResult } from '../../analyzer/hops/types.js';
import { annotate } from '../../analyzer/report/annotate.js';
import { toContractJson } from '../../analyzer/report/json.js';
import { CASES, planCase } from '../../fixtures/generate/analyze-plan.js';

const FIX = path.resolve('fixtures/analyze');
const results = new Map<string, AnalysisResult>();
async function result(c: string): Promise<AnalysisResult> {
  if (!results.has(c)) results.set(c, await analyze({ dir: path.join(FIX, c) }));
  return results.get(c)!;
}
const translations = (f: FlowResult) => f.hops.map((h) => h.translation);
const tmp: string[] = [];
afterAll(() => { for (const d of tmp) rmSync(d, { recursive: true, force: true }); });

describe('analyze on real captures', () => {
  for (const c of CASES) {
    it(`${c}: every client flow gets the verdict the lab was built to show, and matches the golden JSON`, async () => {
      const plan = planCase(c, 'x-');
      const r = await result(c);
      expect(r.warnings).toEqual([]);
      expect(r.summary.flows).toBe(plan.requests);
      expect(r.summary.clientIpAtBackend[plan.expect.clientIpAtBackend]).toBe(plan.requests);
      for (const f of r.flows.filter((x) => !x.healthCheck)) {
        expect(f.client.ip).toBe('198.51.100.10');
        expect(f.frontend).toEqual({ ip: '203.0.113.10', port: 80 });
        expect(f.verdict.lbDecisions).toBe(plan.expect.lbDecisions);
        if (plan.expect.crossNode !== null) expect(f.verdict.crossNode).toBe(plan.expect.crossNode);
        expect(f.verdict.replyFromFrontend).toBe(true);
        expect(f.hops[0]!.point).toBe('client');
        expect(['10.244.1.5', '10.244.2.5']).toContain(f.backend.ip);
      }
      expect(r.stats.fingerprintConflicts).toBe(0);
      await expect(`${JSON.stringify(toContractJson(r), null, 2)}\n`).toMatchFileSnapshot(path.join(FIX, c, 'expected.json'));
    });
  }

  it('dnat-only: one DNAT by the nlb, the pod sees the client as its peer, conntrack agrees', async () => {
    const r = await result('dnat-only');
    const f = r.flows[0]!;
    expect(translations(f)).toEqual(['none', 'routed', 'dnat', 'none', 'routed']);
    expect(f.hops[2]).toMatchObject({ point: 'nlb', dst: '10.244.1.5:8080', by: 'nlb' });
    expect(f.hops.at(-1)!.src).toBe(`198.51.100.10:${f.client.port}`);
    expect(r.summary.sourceSeenByBackend).toEqual({ '198.51.100.10': 10 });
    expect(r.groundTruth).toMatchObject({ checked: 10, agree: 10, disagree: 0 });
  });

  it('instance-cluster (-i any): SLL2 captures split per interface; DNAT at the nlb, DNAT+SNAT by kube-proxy; the pod never sees the client', async () => {
    const r = await result('instance-cluster');
    const names = r.points.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['worker:eth0', 'worker:veth-echo-a', 'worker2:eth0', 'worker2:veth-echo-b']));
    for (const f of r.flows) {
      const kp = f.hops.filter((h) => h.translation === 'dnat+snat');
      expect(kp).toHaveLength(1);
      expect(kp[0]!.by).toBe('kube-proxy');
      expect(['worker', 'worker2']).toContain(kp[0]!.at);
      expect(f.hops.filter((h) => h.translation === 'dnat').map((h) => h.by)).toEqual(['nlb']);
      // The source the pod sees: the forwarding node's IP across nodes, its pod-bridge address on the same node.
      const seen = f.hops.at(-1)!.src.split(':')[0]!;
      if (f.verdict.crossNode) expect(['172.18.0.3', '172.18.0.4']).toContain(seen);
      else expect(['10.244.1.1', '10.244.2.1']).toContain(seen);
    }
    expect(Object.values(r.summary.backends).reduce((a, b) => a + b, 0)).toBe(16);
    expect(r.groundTruth!.disagree).toBe(0);
    expect(r.groundTruth!.agree).toBe(32);
  });

  it('local-policy: one decision at the NLB, DNAT only at the node, the pod sees the client', async () => {
    const r = await result('local-policy');
    // The node was captured by dumpcap on two interfaces into one pcapng: its IDB if_names name the points.
    expect(r.points.filter((p) => p.file === 'worker.pcapng').map((p) => [p.name, p.interface])).toEqual([['worker:eth0', 'eth0'], ['worker:veth-echo-a', 'veth-echo-a']]);
    for (const f of r.flows) {
      expect(translations(f)).toEqual(['none', 'routed', 'dnat', 'none', 'dnat', 'none']);
      expect(f.hops.map((h) => h.by)).toEqual([null, null, 'nlb', null, 'kube-proxy', null]);
      expect(f.backend).toMatchObject({ pod: 'echo-a', node: 'worker' });
    }
    expect(r.groundTruth).toMatchObject({ checked: 20, agree: 20 });
  });

  it('ppv2-proxy: a proxy hop joined by the PROXY v2 header; health checks with LOCAL headers are kept apart', async () => {
    const r = await result('ppv2-proxy');
    const client = r.flows.filter((f) => !f.healthCheck);
    for (const f of client) {
      const proxy = f.hops.find((h) => h.translation === 'proxy')!;
      expect(proxy.by).toBe('nlb');
      expect(proxy.src.startsWith('172.18.1.10:')).toBe(true);
      expect(proxy.ppv2).toMatchObject({ command: 'PROXY', src: `198.51.100.10:${f.client.port}`, dst: '203.0.113.10:80' });
      expect(new Set(f.hops.map((h) => h.connection)).size).toBe(2);
    }
    expect(r.stats.proxyLinks).toBe(10);
    expect(r.summary.healthChecks).toBeGreaterThan(0);
    for (const f of r.flows.filter((x) => x.healthCheck)) expect(f.hops[0]!.ppv2).toMatchObject({ command: 'LOCAL', src: null });
    expect(r.summary.backends).toEqual({ 'echo-a': 5, 'echo-b': 5 });
  });

  it('gateway-xff: two proxy hops; the app sees the gateway as its peer and the client only in X-Forwarded-For', async () => {
    const r = await result('gateway-xff');
    for (const f of r.flows.filter((x) => !x.healthCheck)) {
      const proxies = f.hops.filter((h) => h.translation === 'proxy');
      expect(proxies.map((h) => h.by)).toEqual(['nlb', 'gateway']);
      expect(proxies[0]!.ppv2?.src).toBe(`198.51.100.10:${f.client.port}`);
      expect(f.hops.at(-1)).toMatchObject({ point: 'echo-b', xff: '198.51.100.10' });
      expect(f.hops.at(-1)!.src.startsWith('10.244.1.5:')).toBe(true);
      expect(new Set(f.hops.map((h) => h.connection)).size).toBe(3);
    }
    expect(r.summary.sourceSeenByBackend).toEqual({ '10.244.1.5': 10 });
  });

  it('vxlan: SNAT to the overlay address, encapsulation on the node uplink, decapsulation on the other node', async () => {
    const r = await result('vxlan');
    for (const f of r.flows) {
      expect(translations(f)).toEqual(['none', 'routed', 'dnat', 'none', 'dnat+snat', 'encap', 'none', 'decap']);
      const encap = f.hops[5]!;
      expect(encap.tunnel).toEqual({ kind: 'vxlan', src: '172.18.0.3', dst: '172.18.0.4' });
      expect(encap).toMatchObject({ by: 'vxlan', at: 'worker' });
      expect(f.hops.at(-1)!.src.startsWith('10.245.0.1:')).toBe(true);
      expect(f.verdict.crossNode).toBe(true);
    }
  });

  it('retransmissions: lost segments are resent but add no hops; super-frames at the pod match MSS segments upstream', async () => {
    const r = await result('retransmissions');
    expect(r.stats.retransmissions).toBeGreaterThan(0);
    for (const f of r.flows) {
      expect(translations(f)).toEqual(['none', 'routed', 'dnat', 'none', 'dnat']);
      expect(f.replyHops).toHaveLength(5);
    }
    const pod = r.flows.flatMap((f) => f.replyHops.filter((h) => h.point === 'echo-a'));
    expect(pod.reduce((s, h) => s + h.superframes, 0)).toBeGreaterThan(0);
    const uplink = r.flows.flatMap((f) => f.replyHops.filter((h) => h.point === 'worker'));
    expect(uplink.reduce((s, h) => s + h.superframes, 0)).toBe(0);
    expect(r.flows.reduce((s, f) => s + f.retransmissions, 0)).toBe(r.stats.retransmissions);
  });

  it('annotate: the matched packet of every hop and every PROXY header, with readable comments', async () => {
    const notes = annotate(await result('ppv2-proxy'));
    expect(notes.find((a) => a.comment.includes('PPv2 PROXY client 198.51.100.10:'))).toMatchObject({ point: 'nlb', file: 'nlb.pcap' });
    const dnat = annotate(await result('dnat-only'));
    expect(dnat).toContainEqual(expect.objectContaining({ point: 'nlb', comment: expect.stringMatching(/^f1 hop 3: DNAT 203\.0\.113\.10:80 → 10\.244\.1\.5:8080 by nlb$/) }));
    for (const a of dnat) expect(a.n).toBeGreaterThan(0);
  });
});

describe('analyze on inputs that cannot all be used', () => {
  function copyCase(c: string): string {
    const d = mkdtempSync(path.join(os.tmpdir(), 'netlab-analyze-'));
    tmp.push(d);
    cpSync(path.join(FIX, c), d, { recursive: true });
    return d;
  }

  it('a manifest naming a missing file: a warning naming the point and file, the rest analysed', async () => {
    const d = copyCase('dnat-only');
    const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    m.points[2].file = 'gone.pcap';
    writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
    const r = await analyze({ dir: d });
    expect(r.warnings).toEqual([expect.objectContaining({ severity: 'unusable', message: expect.stringContaining('"worker": capture file gone.pcap does not exist') })]);
    expect(r.summary.clientIpAtBackend.peer).toBe(10);
    expect(r.points.map((p) => p.name)).not.toContain('worker');
  });

  it('captures that share no packets: a warning, and each flow shown at its one point', async () => {
    const r = await analyze({ pairs: [
      { name: 'client', file: path.join(FIX, 'dnat-only', 'client.pcap') },
      { name: 'pod-b', file: path.join(FIX, 'ppv2-proxy', 'echo-b.pcap') },
    ] });
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/the 2 captures share no packets/)]);
    expect(r.flows.length).toBeGreaterThan(0);
    for (const f of r.flows) expect(new Set(f.hops.map((h) => h.point)).size).toBe(1);
  });

  it('mixed link types: a capture with no IP packets is left out with a message; the others are analysed', async () => {
    const d = copyCase('dnat-only');
    // A pcap of link type 147 (USER0) holding one frame: nothing the analyzer can read as IP.
    const hdr = Buffer.alloc(24);
    hdr.writeUInt32LE(0xa1b2c3d4, 0); hdr.writeUInt16LE(2, 4); hdr.writeUInt16LE(4, 6); hdr.writeUInt32LE(65535, 16); hdr.writeUInt32LE(147, 20);
    const rec = Buffer.alloc(16 + 20);
    rec.writeUInt32LE(1795772756, 0); rec.writeUInt32LE(20, 8); rec.writeUInt32LE(20, 12);
    writeFileSync(path.join(d, 'user0.pcap'), Buffer.concat([hdr, rec]));
    const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    m.points.push({ name: 'odd', file: 'user0.pcap', role: 'node' });
    writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
    const r = await analyze({ dir: d });
    expect(r.warnings).toEqual([expect.objectContaining({ severity: 'unusable', message: expect.stringMatching(/"odd": no IP packets in link type 147/) })]);
    expect(r.summary.clientIpAtBackend.peer).toBe(10);
  });

  it('a folder without manifest.json: each pcap is a point named after its file, roles guessed, with a note', async () => {
    const d = copyCase('dnat-only');
    rmSync(path.join(d, 'manifest.json'));
    const r = await analyze({ dir: d });
    expect(r.warnings).toEqual([expect.objectContaining({ severity: 'notice', message: expect.stringMatching(/no manifest\.json/) })]);
    expect(r.points.map((p) => [p.name, p.role])).toEqual([['client', 'client'], ['echo-a', 'node'], ['nlb', 'lb'], ['worker', 'node']]);
    expect(r.summary.clientIpAtBackend.peer).toBe(10);
  });

  it('a truncated capture: its packets up to the cut are still used', async () => {
    const d = copyCase('dnat-only');
    const full = readFileSync(path.join(d, 'echo-a.pcap'));
    writeFileSync(path.join(d, 'echo-a.pcap'), full.subarray(0, Math.floor(full.length / 2) + 7));
    const r = await analyze({ dir: d });
    expect(r.stats.malformed).toBe(1);
    expect(r.summary.flows).toBe(10);
    expect(r.summary.clientIpAtBackend.peer).toBeGreaterThanOrEqual(4);
  });
});
