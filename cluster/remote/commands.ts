/**
 * The commands netlab execs in the capture pods, as argument arrays (the exec API takes argv, no
 * shell): tcpdump on the node, the /proc scan that finds a pod's processes, tcpdump inside a pod's
 * network namespace, and the address list that names the indexes of a `-i any` capture.
 */
import { parseIfindexNames } from '../capture/ifindex.js';
import { tcpdumpArgs } from '../capture/tcpdump.js';

/**
 * `timeout -s INT` ends tcpdump after the duration the way Ctrl-C would, so it flushes its last
 * packets and prints its drop counts; the exec API itself has no way to send a signal.
 */
function bounded(seconds: number, argv: string[]): string[] {
  return ['timeout', '-s', 'INT', String(seconds), ...argv];
}

/** The lab's tcpdump arguments (snap length and ring chosen there), writing to stdout. */
const streamArgs = (filter: string): string[] => tcpdumpArgs('-', filter);

/** In the node's own network namespace (the capture pod has hostNetwork). */
export function nodeCaptureCommand(filter: string, seconds: number): string[] {
  return bounded(seconds, ['tcpdump', ...streamArgs(filter)]);
}

/** Inside a pod's network namespace, entered through one of its processes (the pod has hostPID). */
export function podCaptureCommand(pid: number, filter: string, seconds: number): string[] {
  return bounded(seconds, ['nsenter', '-t', String(pid), '-n', 'tcpdump', ...streamArgs(filter)]);
}

/** `ip -j addr show`: interface names for the indexes of a `-i any` capture, and the host's addresses. */
export function addrListCommand(pid: number | null): string[] {
  return pid === null ? ['ip', '-j', 'addr', 'show'] : ['nsenter', '-t', String(pid), '-n', 'ip', '-j', 'addr', 'show'];
}

/**
 * The strings that name a pod's processes in their cgroup paths: the container IDs (every CRI
 * runtime puts them there: `cri-containerd-<id>.scope`, `crio-<id>`, `docker-<id>`) and the pod UID
 * (`pod<uid>` with the cgroupfs driver, `pod<uid with _>` with systemd's slices).
 */
export function podCgroupKeys(pod: { uid: string; containerIds: string[] }): string[] {
  const keys = [...pod.containerIds];
  if (pod.uid) keys.push(`pod${pod.uid}`, `pod${pod.uid.replaceAll('-', '_')}`);
  return keys.filter((k) => k.length >= 8);
}

/** Lists `/proc/<pid>/cgroup` of every process whose cgroup path holds one of the keys. */
export function pidLookupCommand(keys: string[]): string[] {
  return ['find', '/proc', '-mindepth', '2', '-maxdepth', '2', '-name', 'cgroup', '-exec', 'grep', '-l', '-s', '-F', ...keys.flatMap((k) => ['-e', k]), '{}', '+'];
}

/**
 * The pid to enter from the lookup's output. Every process of a pod shares its network namespace;
 * the lowest pid is the oldest and least likely to exit before nsenter runs.
 */
export function pidFromLookup(stdout: string): number | null {
  const pids = stdout.split('\n').map((l) => /^\/proc\/(\d+)\/cgroup$/.exec(l.trim())?.[1]).filter((p): p is string => p !== undefined).map(Number);
  return pids.length ? Math.min(...pids) : null;
}

export interface HostInterfaces {
  /** Interface index → name. */
  ifindex: Record<string, string>;
  /** The host's own unicast addresses (not loopback or link-local): a node's pod-network gateway too. */
  addresses: string[];
}

/** `ip -j addr show` → interface names and addresses. */
export function parseAddrList(stdout: string): HostInterfaces {
  const links = JSON.parse(stdout) as Array<{ addr_info?: Array<{ local?: string; scope?: string }> }>;
  return {
    ifindex: parseIfindexNames(stdout),
    addresses: links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.local && a.scope === 'global').map((a) => a.local!)),
  };
}
