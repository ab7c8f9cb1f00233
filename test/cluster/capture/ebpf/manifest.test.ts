import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../../analyzer/manifest/manifest.js';
import type { EbpfPoint } from '../../../../cluster/capture/ebpf/capture.js';
import { ebpfCapturedFiles, ebpfManifestPoints } from '../../../../cluster/capture/ebpf/manifest.js';

const point = (index: number, namespace: string, dev: string, packets: number): EbpfPoint => ({
  index, name: `${namespace}:${dev}`, namespace, netnsInode: 4026532000 + index, interface: dev, ifindex: index + 2,
  file: `ebpf-${namespace}_${dev}.pcapng`, packets,
});

const POINTS = [point(0, 'worker', 'eth0', 12), point(1, 'client', 'eth0', 10), point(2, 'worker', 'veth1a2b3c4d', 8), point(3, 'nlb-a', 'eth0', 0)];

describe('ebpfManifestPoints', () => {
  it('makes one manifest point per device that saw packets, which the analyzer accepts', () => {
    const points = ebpfManifestPoints(POINTS, (ns) =>
      ns === 'client' ? { role: 'client', netns: 'L-client' } : { role: 'node', node: ns, netns: `L-${ns}` });
    expect(points).toMatchInlineSnapshot(`
      [
        {
          "file": "ebpf-client_eth0.pcapng",
          "interface": "eth0",
          "linktype": 1,
          "name": "client:eth0",
          "namespace": "L-client",
          "node": null,
          "pod": null,
          "role": "client",
        },
        {
          "file": "ebpf-worker_eth0.pcapng",
          "interface": "eth0",
          "linktype": 1,
          "name": "worker:eth0",
          "namespace": "L-worker",
          "node": "worker",
          "pod": null,
          "role": "node",
        },
        {
          "file": "ebpf-worker_veth1a2b3c4d.pcapng",
          "interface": "veth1a2b3c4d",
          "linktype": 1,
          "name": "worker:veth1a2b3c4d",
          "namespace": "L-worker",
          "node": "worker",
          "pod": null,
          "role": "node",
        },
      ]
    `);
    const text = JSON.stringify({ version: 1, points });
    expect(parseManifest(text, 'manifest.json').points.map((p) => p.name)).toEqual(['client:eth0', 'worker:eth0', 'worker:veth1a2b3c4d']);
  });
});

describe('ebpfCapturedFiles', () => {
  it('hands the capture command one entry per point, tied to its target', () => {
    const targets = [{ name: 'client', netns: 'L-client', role: 'client' }, { name: 'worker', netns: 'L-worker', role: 'node' }];
    const files = ebpfCapturedFiles(POINTS, targets, '/run/out');
    expect(files.map((f) => [f.target.netns, f.file, f.interface, f.packets, f.linktype])).toEqual([
      ['L-worker', '/run/out/ebpf-worker_eth0.pcapng', 'eth0', 12, 1],
      ['L-client', '/run/out/ebpf-client_eth0.pcapng', 'eth0', 10, 1],
      ['L-worker', '/run/out/ebpf-worker_veth1a2b3c4d.pcapng', 'veth1a2b3c4d', 8, 1],
    ]);
    expect(files.every((f) => f.timestampSource === 'kernel' && f.ifindexMap === null)).toBe(true);
  });
});
