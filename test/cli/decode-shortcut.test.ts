/** The commander-free path of `netlab decode`: only plain invocations take it. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { plainDecodeArgs } from '../../cli/decode-shortcut.js';

describe('plainDecodeArgs', () => {
  it('takes decode FILE with an optional valid --format, in either spelling and order', () => {
    expect(plainDecodeArgs(['decode', 'x.pcap'])).toEqual({ file: 'x.pcap', format: 'text' });
    expect(plainDecodeArgs(['decode', 'x.pcap', '--format', 'summary'])).toEqual({ file: 'x.pcap', format: 'summary' });
    expect(plainDecodeArgs(['decode', '--format=ndjson', '-'])).toEqual({ file: '-', format: 'ndjson' });
  });

  it('leaves everything else to commander', () => {
    for (const args of [
      ['decode'], ['decode', '--help'], ['decode', 'x.pcap', '--verbose'], ['decode', 'x.pcap', '--format', 'xml'],
      ['decode', 'x.pcap', '--format'], ['decode', 'a.pcap', 'b.pcap'], ['--verbose', 'decode', 'x.pcap'],
      ['decode', 'x.pcap', '--format', 'text', '--format', 'ndjson'], ['analyze', 'x.pcap'],
    ]) expect(plainDecodeArgs(args), args.join(' ')).toBeNull();
  });

  it('gives the same output and exit codes as the commander path', () => {
    const netlab = (...args: string[]) => spawnSync('node', ['dist/cli/main.js', ...args], { encoding: 'utf8' });
    const fast = netlab('decode', 'fixtures/decode/sll2.pcap', '--format', 'ndjson');
    const viaCommander = netlab('--verbose', 'decode', 'fixtures/decode/sll2.pcap', '--format', 'ndjson');
    expect(fast.status).toBe(0);
    expect(fast.stdout.split('\n').length).toBeGreaterThan(2);
    expect(fast.stdout).toBe(viaCommander.stdout);
    const bad = netlab('decode', 'fixtures/decode/broken-caplen.pcap');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^netlab: fixtures\/decode\/broken-caplen\.pcap: byte 102: .*\n$/);
    const usage = netlab('decode', 'x.pcap', '--format', 'xml');
    expect(usage.status).toBe(1);
    expect(usage.stderr).toMatch(/format/);
  });
});
