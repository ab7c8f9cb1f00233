import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ebpfProbeCheck } from '../../../../cluster/capture/ebpf/doctor.js';
import { which } from '../../../../cluster/exec/exec.js';

const bpftrace = await which('bpftrace');
const canTrace = process.getuid?.() === 0 && bpftrace !== null && existsSync('/sys/kernel/btf/vmlinux') && existsSync('/sys/kernel/tracing/events/net');
const dir = mkdtempSync(path.join(tmpdir(), 'netlab-ebpf-doctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ebpfProbeCheck', () => {
  it.skipIf(!canTrace)('compiles and attaches the real probe on this machine', async () => {
    const r = await ebpfProbeCheck(bpftrace!);
    expect(r.status).toBe('ok');
    expect(r.detail).toMatch(/attached/);
  });

  it('says what bpftrace printed when the probe cannot load', async () => {
    // A stand-in bpftrace that fails the way a kernel without BTF makes it fail.
    const fake = path.join(dir, 'bpftrace');
    writeFileSync(fake, '#!/bin/sh\necho "ERROR: Could not resolve struct sk_buff: kernel BTF missing" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const r = await ebpfProbeCheck(fake);
    expect(r.status).toBe('missing');
    expect(r.detail).toContain('ERROR: Could not resolve struct sk_buff');
    expect(r.fix).toMatch(/BTF/);
  });
});
