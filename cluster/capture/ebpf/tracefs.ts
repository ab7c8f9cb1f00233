/**
 * The net tracepoints live in tracefs, which a fresh machine may not have mounted. Mounting it is
 * the one host change the eBPF source needs; it is harmless and stays for later runs.
 */
import { run } from '../../exec/exec.js';
import { pathExists as exists } from '../../exec/paths.js';

const TRACEFS = '/sys/kernel/tracing';

/** Returns 'mounted' when it had to mount tracefs, 'present' when it was there, 'missing' when it cannot. */
export async function ensureTracefs(): Promise<'present' | 'mounted' | 'missing'> {
  if (await exists(`${TRACEFS}/events/net`)) return 'present';
  if (process.getuid?.() !== 0 || !(await exists(TRACEFS))) return 'missing';
  const m = await run('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { allowFailure: true });
  return m.exitCode === 0 && (await exists(`${TRACEFS}/events/net`)) ? 'mounted' : 'missing';
}
