import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('netlab doctor --json', () => {
  it('reports every tool with what it blocks and how to fix it', () => {
    const r = spawnSync('node', ['dist/cli/main.js', 'doctor', '--json'], { encoding: 'utf8' });
    const report = JSON.parse(r.stdout) as { netnsLabReady: boolean; checks: Array<{ name: string; status: string; blocks: string; fix: string | null }> };
    const names = report.checks.map((c) => c.name);
    for (const tool of ['root', 'ip', 'iptables', 'tcpdump', 'conntrack', 'bpftrace', 'docker', 'kind']) expect(names).toContain(tool);
    for (const c of report.checks) {
      expect(c.blocks.length).toBeGreaterThan(0);
      if (c.status === 'missing') expect(c.fix === null || c.fix.length > 0).toBe(true);
    }
    expect(r.status).toBe(report.netnsLabReady ? 0 : 2);
    // The kernel probe must clean up its scratch namespace.
    const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(ns).not.toMatch(/netlab-doctor-/);
  });
});
