/**
 * Capture readers run at a higher CPU priority. A tcpdump ring (in immediate mode a TPACKET_V2
 * ring of snap-length slots, see tcpdump.ts) overflows when its reader waits too long for a CPU,
 * and bpftrace's per-CPU buffers likewise; on a machine
 * loaded by other work (load average 12 on 2 cores here) that wait happened in about half of
 * the e2e runs, and tcpdump counted packets "dropped by kernel". A higher priority makes the
 * woken reader run first; it costs no CPU.
 */
import os from 'node:os';

export const CAPTURE_NICE = -10;

/** Raise `pid`'s priority; without the privilege to, it keeps the default. */
export function prioritizeCapture(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, CAPTURE_NICE);
  } catch {
    // Not root (or the process is gone): capturing still works, only less promptly under load.
  }
}
