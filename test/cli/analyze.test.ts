/** `netlab analyze` through the built CLI: outputs, exit codes, one-line errors. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BIN = 'dist/cli/main.js';
const cli = (...args: string[]) => spawnSync('node', [BIN, 'analyze', ...args], { encoding: 'utf8' });

describe('netlab analyze', () => {
  it('--json on a capture folder prints the CONTRACT.md object, equal to the golden file', () => {
    const r = cli('fixtures/analyze/instance-cluster', '--json');
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(Object.keys(got)).toEqual(expect.arrayContaining(['points', 'flows', 'summary']));
    expect(Object.keys(got.flows[0])).toEqual(expect.arrayContaining(['id', 'client', 'frontend', 'backend', 'hops', 'verdict']));
    expect(Object.keys(got.flows[0].hops[0])).toEqual(expect.arrayContaining(['point', 'src', 'dst', 'ttl', 'translation', 'by', 'ppv2']));
    expect(got).toEqual(JSON.parse(readFileSync('fixtures/analyze/instance-cluster/expected.json', 'utf8')));
  });

  it('prints one table per path shape and the summary by default', () => {
    const r = cli('fixtures/analyze/local-policy');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Path 1: 10 flows/m);
    expect(r.stdout).toMatch(/│ 5 │ worker:veth-echo-a │ node {3}│ 198\.51\.100\.10:\d+ │ 10\.244\.1\.5:8080 {2}│ 61 {2}│ dnat {3}│ kube-proxy @worker │/);
    expect(r.stdout).toMatch(/client IP at backend: peer 10, ppv2 0, xff 0, lost 0/);
  });

  it('--markdown prints Markdown tables', () => {
    const r = cli('fixtures/analyze/ppv2-proxy', '--markdown');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\| # \| point \| role \| src \| dst \| ttl \| change \| by \|$/m);
    expect(r.stdout).toMatch(/proxy \(PPv2 PROXY client 198\.51\.100\.10:\d+\) \| nlb \|/);
  });

  it('NAME=FILE pairs name the points', () => {
    const d = 'fixtures/analyze/dnat-only';
    const r = cli(`client=${d}/client.pcap`, `nlb=${d}/nlb.pcap`, `pod-a=${d}/echo-a.pcap`, '--json');
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.points.map((p: { name: string; role: string }) => [p.name, p.role])).toEqual([['client', 'client'], ['nlb', 'lb'], ['pod-a', 'pod']]);
    expect(got.summary.clientIpAtBackend.peer).toBe(10);
  });

  it('a missing capture: one line saying which, exit 2, no stack trace', () => {
    const r = cli('client=nope.pcap');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^netlab: no capture file exists \("client": nope\.pcap\) — check the paths/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('captures that share no packets: shows what it can, warns, exit 2', () => {
    const r = cli('client=fixtures/analyze/dnat-only/client.pcap', 'pod=fixtures/analyze/ppv2-proxy/echo-b.pcap');
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^Path 1:/m);
    expect(r.stderr).toMatch(/^netlab: warning: the 2 captures share no packets/m);
  });

  it('usage errors exit 1', () => {
    expect(cli('=x.pcap').status).toBe(1);
    expect(cli('a=x.pcap', 'a=y.pcap').stderr).toMatch(/point name "a" is given twice/);
    expect(cli('fixtures/analyze/dnat-only', '--json', '--markdown').status).toBe(1);
  });
});
