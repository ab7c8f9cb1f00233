import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const BIN = 'dist/cli/main.js';
const CONTRACT_COMMANDS = [
  'doctor', 'up', 'down', 'status', 'apply', 'delete', 'get', 'exec', 'describe-target-health',
  'scenarios', 'capture', 'compare', 'decode', 'analyze',
];

describe('netlab --help', () => {
  it('lists every command of CONTRACT.md', () => {
    const out = execFileSync('node', [BIN, '--help'], { encoding: 'utf8' });
    for (const c of CONTRACT_COMMANDS) expect(out).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('exits 1 with one line on an unknown command', () => {
    const r = spawnSync('node', [BIN, 'no-such-command'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown command 'no-such-command'");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 on a bad option value', () => {
    const r = spawnSync('node', [BIN, 'decode', '-', '--format', 'xml'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/format/);
  });
});
