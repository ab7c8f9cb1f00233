/**
 * `netlab doctor`'s proof that the eBPF source works here: compile and attach the very program
 * `--source ebpf` runs (filtered to doctor's own namespace, so it reports nothing), let it run
 * for a moment, and check that bpftrace attached every tracepoint and exited cleanly.
 */
import type { CheckResult } from '../../doctor/checks.js';
import { run } from '../../exec/exec.js';
import { pidNetnsInode } from './netns.js';
import { detectPageAddressing } from './pages.js';
import { buildProbeProgram } from './program.js';

const BLOCKS = 'capture --source ebpf';

export async function ebpfProbeCheck(bpftrace: string): Promise<CheckResult> {
  const program = buildProbeProgram({
    inodes: [await pidNetnsInode(process.pid)],
    // A port nothing uses keeps the probe silent even in doctor's own namespace.
    ports: [1],
    pages: await detectPageAddressing(),
    exitAfterMs: 300,
    // Everything `netlab capture` turns on: the namespace watch (a third tracepoint), the address
    // filter and request heads (more stack), so a kernel that cannot take them fails here.
    learnNetnsPrefix: '/run/netns/netlab-doctor-none-',
    addresses: ['198.51.100.0/24'],
    requestHeadBytes: 256,
  });
  const started = Date.now();
  const r = await run(bpftrace, ['-e', program], { allowFailure: true, timeoutMs: 60_000 });
  // BEGIN, END, the mount watch, two net tracepoints, the exit timer
  const attached = /Attaching 6 probes/.test(r.stdout + r.stderr);
  const ok = r.exitCode === 0 && attached;
  const why = (r.stderr || r.stdout).split('\n').filter((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l)).slice(0, 2).join(' | ');
  return {
    name: 'eBPF probe attaches',
    status: ok ? 'ok' : 'missing',
    detail: ok
      ? `net:netif_receive_skb + net:net_dev_queue + syscalls:sys_enter_mount attached with sk_buff BTF casts (compile + attach ${Date.now() - started} ms)`
      : `bpftrace could not load netlab's probe: ${why || `exit ${r.exitCode}`}`.slice(0, 200),
    blocks: BLOCKS,
    fix: ok ? null : 'needs root, kernel BTF (/sys/kernel/btf/vmlinux), tracefs mounted, syscall tracepoints (CONFIG_FTRACE_SYSCALLS), bpftrace >= 0.17',
    required: false,
  };
}
