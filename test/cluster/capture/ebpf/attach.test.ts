import { describe, expect, it } from 'vitest';
import { countCpuList, onlineCpus, perfEventFds } from '../../../../cluster/capture/ebpf/attach.js';

describe('countCpuList', () => {
  it.each([
    ['0', 1],
    ['0-1\n', 2],
    ['0-3,6,8-9', 7],
    ['', 0],
  ])('%j has %i CPUs', (list, n) => {
    expect(countCpuList(list)).toBe(n);
  });

  it('agrees with the machine', async () => {
    const { cpus } = await import('node:os');
    expect(await onlineCpus()).toBe(cpus().length);
  });
});

describe('perfEventFds', () => {
  it('is 0 for a process without perf events, and for one that does not exist', async () => {
    expect(await perfEventFds(process.pid)).toBe(0);
    expect(await perfEventFds(2 ** 22 + 1)).toBe(0);
  });
});
