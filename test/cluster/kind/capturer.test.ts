/**
 * The capture runner against a fake `docker` whose helper containers stream pcap bytes until
 * `docker kill --signal SIGINT NAME` reaches them (as tcpdump in a real helper does).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerClient } from '../../../cluster/docker/client.js';
import { kindCapturePlan } from '../../../cluster/kind/capture-plan.js';
import { startKindCapture } from '../../../cluster/kind/capturer.js';
import type { CaptureTarget } from '../../../cluster/capture/points.js';
import { FakeBinaries } from '../../helpers/fake-binaries.js';

// A pcap global header (LINUX_SLL2, nanosecond magic) and nothing else: what tcpdump writes first.
const PCAP_HEADER = Buffer.from('4d3cb2a1020004000000000000000000000004001401' + '0000', 'hex');

let bins: FakeBinaries;
let out: string;

beforeAll(() => {
  bins = new FakeBinaries();
  bins.activate();
  out = mkdtempSync(path.join(tmpdir(), 'netlab-kindcap-'));
});

afterAll(() => {
  bins.cleanup();
  rmSync(out, { recursive: true, force: true });
});

const target = (name: string, role: CaptureTarget['role']): CaptureTarget => ({ name, role, netns: `container:${name}`, node: null, pod: null, namespace: null, interfaces: ['eth0'] });

describe('startKindCapture', () => {
  it('streams each helper into its file, resolves interface names in the same namespace, and stops them with SIGINT', async () => {
    bins.install('docker', [
      { args: ['run', '--rm', '--pull', 'never', '--label', 'netlab.capture=lab1', '*', '*', '*', '*', '*', '*', '--name'], pidNameAfter: '--name', stderr: 'tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n', streamBase64: PCAP_HEADER.toString('base64'), stderrOnStop: '7 packets captured\n9 packets received by filter\n2 packets dropped by kernel\n' },
      { args: ['run', '--rm'], stdout: JSON.stringify([{ ifindex: 1, ifname: 'lo' }, { ifindex: 17, ifname: 'eth0' }]) },
      { args: ['kill', '--signal', 'SIGINT'], interruptLastArg: true },
    ]);
    const plan = kindCapturePlan('lab1', 'r1', 'netlab:test', [
      { target: target('client', 'client'), container: 'lab1-client' },
      { target: target('lab1-worker', 'node'), container: 'lab1-worker' },
    ], 'tcp');
    const cap = await startKindCapture(new DockerClient(), plan, out, 20_000);
    const files = await cap.stop();
    expect(files.map((f) => [path.basename(f.file), f.packets, f.dropped, f.linktype, f.ifindexMap])).toEqual([
      ['client.pcap', 7, 2, 276, { '1': 'lo', '17': 'eth0' }],
      ['lab1-worker.pcap', 7, 2, 276, { '1': 'lo', '17': 'eth0' }],
    ]);
    for (const f of files) expect(readFileSync(f.file)).toEqual(PCAP_HEADER);
    const lines = bins.lines('docker');
    expect(lines.filter((l) => l.startsWith('docker kill')).sort()).toEqual(['docker kill --signal SIGINT lab1-cap-r1-0', 'docker kill --signal SIGINT lab1-cap-r1-1']);
  });

  it('names the point and what the helper said when one cannot start, and stops the others', async () => {
    bins.clearLog();
    bins.install('docker', [
      { args: ['run', '--rm', '--pull', 'never', '--label', 'netlab.capture=lab1', '--network', 'container:lab1-client'], pidNameAfter: '--name', stderr: 'tcpdump: listening on any\n', streamBase64: '' },
      { args: ['run', '--rm'], stderr: 'docker: Error response from daemon: No such image: netlab:test.\n', exitCode: 125 },
      { args: ['kill', '--signal', 'SIGINT'], interruptLastArg: true },
    ]);
    const plan = kindCapturePlan('lab1', 'r2', 'netlab:test', [
      { target: target('client', 'client'), container: 'lab1-client' },
      { target: target('lab1-worker', 'node'), container: 'lab1-worker' },
    ], 'tcp');
    const err = await startKindCapture(new DockerClient(), plan, out, 20_000).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toBe('capture at lab1-worker ended before capturing: docker: Error response from daemon: No such image: netlab:test.');
    expect(bins.lines('docker').filter((l) => l.startsWith('docker kill')).sort()).toEqual(['docker kill --signal SIGINT lab1-cap-r2-0', 'docker kill --signal SIGINT lab1-cap-r2-1']);
  });
});
