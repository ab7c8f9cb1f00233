/**
 * What this machine can do for netlab. Each check says what its absence blocks and how to fix it,
 * so `netlab doctor` can be read top to bottom by someone setting up a machine.
 */
import { readFile } from 'node:fs/promises';
import { ebpfProbeCheck } from '../capture/ebpf/doctor.js';
import { ensureTracefs } from '../capture/ebpf/tracefs.js';
import { dockerCheckResults, gatherDockerFacts } from '../docker/doctor.js';
import { run, which } from '../exec/exec.js';
import { pathExists as exists } from '../exec/paths.js';
import { kindProviderChecks } from '../kind/doctor.js';

export type CheckStatus = 'ok' | 'missing' | 'warn';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What cannot work without it. */
  blocks: string;
  /** The exact command that fixes it, when there is one. */
  fix: string | null;
  /** Needed by the default netns lab (`netlab up`, `netlab capture`). */
  required: boolean;
}

const APT = 'apt-get install -y';

interface ToolSpec {
  bin: string;
  pkg: string | null;
  blocks: string;
  required: boolean;
  versionArgs: string[];
}

const TOOLS: ToolSpec[] = [
  { bin: 'ip', pkg: 'iproute2', blocks: 'the netns lab (namespaces, veth, bridges, routes)', required: true, versionArgs: ['-V'] },
  { bin: 'iptables', pkg: 'iptables', blocks: 'kube-proxy rules and the NLB data plane', required: true, versionArgs: ['--version'] },
  { bin: 'tcpdump', pkg: 'tcpdump', blocks: '--capturer tcpdump and the fallback when the cap binding cannot load', required: true, versionArgs: ['--version'] },
  { bin: 'conntrack', pkg: 'conntrack', blocks: 'NAT ground truth (conntrack events) in capture runs', required: true, versionArgs: ['--version'] },
  { bin: 'bpftrace', pkg: 'bpftrace', blocks: 'capture --source ebpf', required: false, versionArgs: ['--version'] },
  { bin: 'tshark', pkg: 'tshark', blocks: 'the decoder cross-check tests against Wireshark', required: false, versionArgs: ['--version'] },
  { bin: 'docker', pkg: 'docker.io', blocks: 'the kind provider (--provider kind)', required: false, versionArgs: ['--version'] },
  { bin: 'kind', pkg: null, blocks: 'the kind provider (--provider kind)', required: false, versionArgs: ['version'] },
];

async function toolCheck(t: ToolSpec): Promise<CheckResult> {
  const found = await which(t.bin);
  if (!found) {
    return {
      name: t.bin,
      status: 'missing',
      detail: 'not on PATH',
      blocks: t.blocks,
      fix: t.pkg ? `${APT} ${t.pkg}` : 'install kind from its release binaries (no Debian package; needs Docker and the kindest/node image)',
      required: t.required,
    };
  }
  const v = await run(found, t.versionArgs, { allowFailure: true, timeoutMs: 5000 });
  const line = (v.stdout || v.stderr).split('\n').find((l) => l.trim()) ?? '';
  return { name: t.bin, status: 'ok', detail: `${found} ${line.trim()}`.slice(0, 100), blocks: t.blocks, fix: null, required: t.required };
}

async function rootCheck(): Promise<CheckResult> {
  const isRoot = process.getuid?.() === 0;
  return {
    name: 'root',
    status: isRoot ? 'ok' : 'missing',
    detail: isRoot ? 'running as root' : `running as uid ${process.getuid?.()}`,
    blocks: 'creating network namespaces, iptables rules and captures',
    fix: isRoot ? null : 'run netlab with sudo',
    required: true,
  };
}

async function capBindingCheck(): Promise<CheckResult> {
  try {
    const mod = (await import('cap')) as { default?: unknown; Cap?: unknown };
    const ok = Boolean(mod.Cap ?? (mod.default as { Cap?: unknown } | undefined)?.Cap);
    return {
      name: 'cap (libpcap binding)',
      status: ok ? 'ok' : 'missing',
      detail: ok ? 'loads' : 'module has no Cap export',
      blocks: 'the in-process libpcap capture agent (tcpdump is used instead)',
      fix: ok ? null : `${APT} libpcap-dev && npm rebuild cap`,
      required: false,
    };
  } catch (err) {
    return {
      name: 'cap (libpcap binding)',
      status: 'warn',
      detail: `does not load: ${(err as Error).message.split('\n')[0]}`.slice(0, 100),
      blocks: 'the in-process libpcap capture agent (tcpdump is used instead)',
      fix: `${APT} libpcap-dev && npm rebuild cap`,
      required: false,
    };
  }
}

/** Create a scratch namespace and try the kernel features the lab relies on; removes it again. */
async function kernelChecks(): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const ns = `netlab-doctor-${process.pid}`;
  const add = await run('ip', ['netns', 'add', ns], { allowFailure: true });
  results.push({
    name: 'network namespaces',
    status: add.exitCode === 0 ? 'ok' : 'missing',
    detail: add.exitCode === 0 ? 'ip netns add works' : add.stderr.slice(0, 100),
    blocks: 'the netns lab',
    fix: add.exitCode === 0 ? null : 'run as root on a kernel with CONFIG_NET_NS',
    required: true,
  });
  if (add.exitCode !== 0) return results;
  try {
    const feature = async (name: string, args: string[], blocks: string, required: boolean, fix: string) => {
      const r = await run('ip', ['-n', ns, ...args], { allowFailure: true });
      results.push({ name, status: r.exitCode === 0 ? 'ok' : 'missing', detail: r.exitCode === 0 ? 'works' : r.stderr.trim().slice(0, 100), blocks, fix: r.exitCode === 0 ? null : fix, required });
    };
    await feature('veth', ['link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'], 'every lab link', true, 'a kernel with CONFIG_VETH');
    await feature('bridge', ['link', 'add', 'br0', 'type', 'bridge'], 'the node network and pod bridges', true, 'a kernel with CONFIG_BRIDGE');
    await feature('vxlan', ['link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'dev', 'd0'], 'VXLAN overlay experiments', false, 'a kernel with CONFIG_VXLAN');
    const nat = await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-m', 'statistic', '--mode', 'random', '--probability', '0.5', '-j', 'DNAT', '--to-destination', '10.0.0.1'], { netns: ns, allowFailure: true });
    results.push({
      name: 'iptables nat + statistic',
      status: nat.exitCode === 0 ? 'ok' : 'missing',
      detail: nat.exitCode === 0 ? 'DNAT with -m statistic works' : nat.stderr.trim().slice(0, 100),
      blocks: "kube-proxy's iptables mode",
      fix: nat.exitCode === 0 ? null : 'a kernel with nf_nat and xt_statistic (or nft_compat)',
      required: true,
    });
  } finally {
    await run('ip', ['netns', 'del', ns], { allowFailure: true });
  }
  return results;
}

async function ebpfChecks(isRoot: boolean): Promise<CheckResult[]> {
  const btf = await exists('/sys/kernel/btf/vmlinux');
  const t = isRoot ? await ensureTracefs() : (await exists('/sys/kernel/tracing/events/net')) ? 'present' : 'missing';
  const tracefs = t !== 'missing';
  const mounted = t === 'mounted' ? ' (netlab doctor mounted it just now)' : '';
  let kprobes = false;
  try {
    kprobes = (await readFile('/sys/kernel/tracing/available_filter_functions', 'utf8')).length > 0;
  } catch {
    kprobes = false;
  }
  const bpftrace = await which('bpftrace');
  const probe = isRoot && btf && tracefs && bpftrace ? [await ebpfProbeCheck(bpftrace)] : [];
  return [
    { name: 'kernel BTF', status: btf ? 'ok' : 'missing', detail: btf ? '/sys/kernel/btf/vmlinux' : 'no /sys/kernel/btf/vmlinux', blocks: 'capture --source ebpf (reading sk_buff fields)', fix: btf ? null : 'a kernel built with CONFIG_DEBUG_INFO_BTF', required: false },
    { name: 'tracefs net tracepoints', status: tracefs ? 'ok' : 'missing', detail: tracefs ? `/sys/kernel/tracing/events/net${mounted}` : 'not mounted', blocks: 'capture --source ebpf', fix: tracefs ? null : 'mount -t tracefs nodev /sys/kernel/tracing', required: false },
    { name: 'kprobes', status: kprobes ? 'ok' : 'warn', detail: kprobes ? 'available' : 'not available on this kernel (netlab uses tracepoints only)', blocks: 'nothing netlab needs', fix: null, required: false },
    ...probe,
  ];
}

export async function runChecks(): Promise<CheckResult[]> {
  const root = await rootCheck();
  const tools = await Promise.all(TOOLS.map(toolCheck));
  const results: CheckResult[] = [root, ...tools, await capBindingCheck()];
  const haveIp = tools.find((t) => t.name === 'ip')?.status === 'ok';
  if (root.status === 'ok' && haveIp) results.push(...(await kernelChecks()));
  results.push(...(await ebpfChecks(root.status === 'ok')));
  const docker = await gatherDockerFacts();
  results.push(...dockerCheckResults(docker));
  results.push(...(await kindProviderChecks(undefined, undefined, docker.engine.ok)));
  return results;
}

/** The default lab can run when every required check passed. */
export function labReady(results: CheckResult[]): boolean {
  return results.every((r) => !r.required || r.status === 'ok');
}
