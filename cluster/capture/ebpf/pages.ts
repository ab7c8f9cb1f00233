/**
 * Where the kernel maps page frames, so the probe can read payload bytes that live in page
 * fragments. x86_64 only: with memory-layout randomisation the bases are kernel variables
 * (read through kallsyms addresses), otherwise the architecture's constants. Elsewhere the probe
 * reads payload from the linear area only (PPv2/HTTP detection then misses fragment payload).
 */
import { readFile } from 'node:fs/promises';
import { X86_64_DEFAULT_PAGES, type PageAddressing } from './program.js';

/** Pure: decide from the architecture, /proc/kallsyms and /proc/cpuinfo text. */
export function pageAddressingFor(arch: string, kallsyms: string, cpuinfo: string): PageAddressing | null {
  if (arch !== 'x64') return null;
  const hasVar = (name: string) => new RegExp(`^[0-9a-f]+ [dDbB] ${name}$`, 'm').test(kallsyms);
  if (hasVar('page_offset_base') && hasVar('vmemmap_base')) {
    return {
      pageOffset: '*(uint64 *)kaddr("page_offset_base")',
      vmemmapBase: '*(uint64 *)kaddr("vmemmap_base")',
      pageShift: 12,
    };
  }
  // 5-level paging without randomisation moves both bases; not worth guessing.
  if (/\bla57\b/.test(cpuinfo) && hasVar('__pgtable_l5_enabled')) return null;
  return X86_64_DEFAULT_PAGES;
}

export async function detectPageAddressing(): Promise<PageAddressing | null> {
  const [kallsyms, cpuinfo] = await Promise.all([
    readFile('/proc/kallsyms', 'utf8').catch(() => ''),
    readFile('/proc/cpuinfo', 'utf8').catch(() => ''),
  ]);
  return pageAddressingFor(process.arch, kallsyms, cpuinfo);
}
