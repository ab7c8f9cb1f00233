import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kindConfig, NODE_IMAGE } from '../../../cluster/kind/config.js';

describe('kindConfig', () => {
  it('writes one control plane and two zoned workers on the pinned image', () => {
    const text = kindConfig({ name: 'netlab', workers: 2, zones: ['a', 'b'] });
    expect(text).toMatchSnapshot();
    const doc = parse(text) as { nodes: Array<{ role: string; image: string; labels?: Record<string, string> }> };
    expect(doc.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(doc.nodes.every((n) => n.image === NODE_IMAGE)).toBe(true);
    expect(doc.nodes.slice(1).map((n) => n.labels?.['topology.kubernetes.io/zone'])).toEqual(['lab-1a', 'lab-1b']);
    expect(doc.nodes[0]!.labels).toBeUndefined();
  });

  it('pins the image by digest, not by tag alone', () => {
    expect(NODE_IMAGE).toMatch(/^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
  });

  it('spreads more workers than zones round-robin', () => {
    const doc = parse(kindConfig({ name: 'x', workers: 3, zones: ['a', 'b'] })) as { nodes: Array<{ labels?: Record<string, string> }> };
    expect(doc.nodes.slice(1).map((n) => n.labels?.['topology.kubernetes.io/zone'])).toEqual(['lab-1a', 'lab-1b', 'lab-1a']);
  });

  it('rejects a worker count and zone names it cannot make, in one line', () => {
    expect(() => kindConfig({ name: 'x', workers: 0, zones: ['a'] })).toThrow(/--nodes gives 1 nodes; the kind provider makes 2 to 9/);
    expect(() => kindConfig({ name: 'x', workers: 2, zones: ['A b'] })).toThrow(/zone 'A b' is not a short lower-case name/);
  });
});
