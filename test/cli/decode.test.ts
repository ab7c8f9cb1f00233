/** `netlab decode`: three formats, stdin, and the exit codes of CONTRACT.md. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BIN = 'dist/cli/main.js';
const netlab = (args: string[], input?: Buffer) => spawnSync('node', [BIN, ...args], { encoding: 'utf8', input });

describe('netlab decode', () => {
  it('--format ndjson prints one CONTRACT.md object per packet', () => {
    const r = netlab(['decode', 'fixtures/decode/proxy-protocol.pcap', '--format', 'ndjson']);
    expect(r.status).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs).toHaveLength(13);
    for (const key of ['n', 'ts', 'linktype', 'ifindex', 'l3', 'src', 'dst', 'proto', 'sport', 'dport', 'ipId', 'ttl', 'seq', 'ack', 'flags', 'payloadLen', 'ppv2', 'inner', 'error']) {
      expect(recs[0]).toHaveProperty(key);
    }
    expect(recs[0].ppv2).toMatchObject({ version: 2, command: 'PROXY', family: 'inet', src: '198.51.100.10', dst: '203.0.113.10', sport: 41234, dport: 80 });
    expect(recs[0].ppv2.tlvs[1]).toMatchObject({ type: 0xea, length: 23 });
  });

  it('--format text prints tcpdump-like lines; stdin works', () => {
    const r = netlab(['decode', '-'], readFileSync('fixtures/decode/sll2.pcap'));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[1]).toBe('2 1700000000.002000000 if5 Out IP 172.18.0.3.41500 > 10.244.1.5.8080: Flags [S], seq 1000, win 64240, length 0');
  });

  it('--format summary prints counts like capinfos', () => {
    const out = execFileSync('node', [BIN, 'decode', 'fixtures/decode/truncated.pcap', '--format', 'summary'], { encoding: 'utf8' });
    expect(out).toMatch(/^packets:\s+9$/m);
    expect(out).toMatch(/^malformed:.*truncated-tcp 1 \(first at byte \d+\)/m);
    expect(out).toMatch(/^link types:\s+ETHERNET 9$/m);
  });

  it('a broken file exits 2 with one line naming the byte offset; a missing one too', () => {
    const r = netlab(['decode', 'fixtures/decode/broken-caplen.pcap']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('netlab: fixtures/decode/broken-caplen.pcap: byte 102: packet record says caplen 300000, over the 256 KiB any capture tool writes — the file is damaged from here on; keep the packets before it with: editcap -r FILE OUT 1-N\n');
    const m = netlab(['decode', 'nope.pcap']);
    expect(m.status).toBe(2);
    expect(m.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('stops quietly when the reader closes the pipe', () => {
    const r = spawnSync('bash', ['-c', `node ${BIN} decode fixtures/decode/ethernet-le-usec.pcap --format ndjson | head -1`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).n).toBe(1);
    expect(r.stderr).toBe('');
  });
});
