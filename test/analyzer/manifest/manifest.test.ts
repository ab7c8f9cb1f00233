import { describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { parseManifest } from '../../../analyzer/manifest/manifest.js';

function error(text: string): NetlabError {
  try {
    parseManifest(text, 'caps/manifest.json');
  } catch (err) {
    if (err instanceof NetlabError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('parseManifest', () => {
  it('reads a valid manifest with -i any interface maps', () => {
    const m = parseManifest(JSON.stringify({ version: 1, points: [
      { name: 'client', file: 'client.pcap', role: 'client' },
      { name: 'worker', file: 'worker.pcap', role: 'node', node: 'worker', interface: 'any', linktype: 276, ifindex: { 1: 'lo', 2: 'eth0' } },
    ] }), 'm.json');
    expect(m.points.map((p) => [p.name, p.role, p.ifindex])).toEqual([['client', 'client', undefined], ['worker', 'node', { 1: 'lo', 2: 'eth0' }]]);
  });

  it('names the file, line and field of a bad role, and what to do', () => {
    const e = error('{\n  "version": 1,\n  "points": [\n    {"name": "a", "file": "a.pcap", "role": "client"},\n    {"name": "r", "file": "r.pcap", "role": "router"}\n  ]\n}');
    expect(e.oneLine()).toBe('caps/manifest.json:5: points[1].role "router" is not one of client, lb, node, pod, gateway — pick the role of the namespace the capture ran in');
    expect(e.exitCode).toBe(2);
  });

  it('locates JSON syntax errors by line', () => {
    expect(error('{\n  "version": 1,\n  "points": [,]\n}').oneLine()).toMatch(/^caps\/manifest\.json:3: not valid JSON/);
  });

  it('refuses duplicate names, missing files, bad ifindex maps and unknown versions', () => {
    const p = (extra: object) => ({ name: 'a', file: 'a.pcap', role: 'node', ...extra });
    expect(error(JSON.stringify({ version: 1, points: [p({}), p({})] })).message).toMatch(/"a" is used twice/);
    expect(error(JSON.stringify({ version: 1, points: [p({ file: '' })] })).message).toMatch(/points\[0\]\.file must name the capture file/);
    expect(error(JSON.stringify({ version: 1, points: [p({ ifindex: { eth0: 2 } })] })).message).toMatch(/ifindex must map interface indexes to names/);
    expect(error(JSON.stringify({ version: 2, points: [p({})] })).message).toMatch(/unsupported manifest version 2/);
    expect(error(JSON.stringify({ version: 1, points: [] })).message).toMatch(/"points" must be a non-empty array/);
  });
});
