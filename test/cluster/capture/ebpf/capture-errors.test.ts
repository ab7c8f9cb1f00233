/**
 * startEbpfCapture when bpftrace cannot run: stand-in bpftrace binaries on PATH, no root needed.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NetlabError } from '../../../../analyzer/errors.js';
import { startEbpfCapture } from '../../../../cluster/capture/ebpf/capture.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netlab-ebpf-fake-'));
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Put a shell script named bpftrace first on PATH. */
function fakeBpftrace(name: string, script: string): void {
  const bin = path.join(dir, name);
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'bpftrace'), `#!/bin/sh\n${script}\n`);
  chmodSync(path.join(bin, 'bpftrace'), 0o755);
  process.env.PATH = `${bin}:${savedPath}`;
}

const NS = [{ name: 'worker', inode: 4026532999 }];

describe('startEbpfCapture when the probe cannot start', () => {
  it('rejects ready with bpftrace\'s own error in one line, and stop() still returns', async () => {
    fakeBpftrace('fails', 'echo "Attaching 3 probes..."; echo "ERROR: Could not resolve symbol: struct sk_buff" >&2; exit 1');
    const capture = await startEbpfCapture({ namespaces: NS, ports: [80], pages: null });
    const err = await capture.ready.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(NetlabError);
    expect((err as NetlabError).oneLine()).toMatch(/the eBPF probe did not start: ERROR: Could not resolve symbol: struct sk_buff/);
    expect((err as NetlabError).oneLine()).not.toContain('\n');
    await expect(capture.stop()).rejects.toBeInstanceOf(NetlabError);
  });

  it('gives up waiting for a probe that never attaches', async () => {
    fakeBpftrace('hangs', 'exec sleep 30');
    const capture = await startEbpfCapture({ namespaces: NS, ports: [80], pages: null, readyTimeoutMs: 500 });
    await expect(capture.ready).rejects.toThrow(/did not attach within 500 ms/);
    await expect(capture.stop()).rejects.toBeInstanceOf(NetlabError);
  });

  it('refuses two namespaces with one name before starting anything', async () => {
    await expect(startEbpfCapture({ namespaces: [NS[0], { name: 'worker', inode: 7 }], ports: [] })).rejects.toThrow(/share a name/);
  });
});
