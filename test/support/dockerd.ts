/**
 * A private Docker engine for one test file. It must leave the host as it found it, so it runs
 * with everything that would touch the host's network switched off (no iptables chains, no
 * forwarding sysctl, no docker0), keeps all its state under one temporary folder, and is stopped
 * and removed by `stop()`. `snapshotHostState` / `diffHostState` let the test prove that.
 *
 * dockerd starts its own containerd (the one Debian's docker.io depends on) under the same
 * folders, so no system service is involved.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { DockerClient } from '../../cluster/docker/client.js';
import { run, spawn, which } from '../../cluster/exec/exec.js';
import { pathExists } from '../../cluster/exec/paths.js';

export interface HostState {
  addresses: string;
  routes: string;
  iptables: string;
  nftables: string;
  sysctls: string;
  mounts: string;
  dockerPaths: string;
}

const SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables'];
/** Where a system engine keeps its state: a private one must create none of these. */
const SYSTEM_DOCKER_PATHS = ['/var/lib/docker', '/var/lib/containerd', '/run/docker', '/run/docker.sock', '/run/containerd', '/etc/docker/key.json'];

/**
 * Mounts an engine makes (overlay layers, its data and exec roots, container namespaces). Other
 * mounts are left out: other test runs on this machine add and remove namespaces and tracefs at
 * any time.
 */
const DOCKER_MOUNT = /docker|containerd/;

/**
 * The host's network and mount state, in a form that compares equal when nothing changed:
 * address lifetimes and rule counters are dropped.
 */
export async function snapshotHostState(): Promise<HostState> {
  const text = async (file: string, args: string[]) => (await run(file, args, { allowFailure: true })).stdout;
  const addresses = (await text('ip', ['-o', 'addr', 'show']))
    .split('\n')
    .map((l) => l.replace(/\s+valid_lft \S+ preferred_lft \S+/, '').replace(/\\\s+/g, ' ').trim())
    .join('\n');
  const routes = [await text('ip', ['-4', 'route', 'show', 'table', 'all']), await text('ip', ['-6', 'route', 'show', 'table', 'all'])].join('\n');
  const withoutCounters = (s: string) =>
    s
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, ''))
      .join('\n');
  const iptables = withoutCounters([await text('iptables-save', []), await text('ip6tables-save', [])].join('\n'));
  const nftables = (await which('nft')) ? (await text('nft', ['list', 'ruleset'])).replace(/counter packets \d+ bytes \d+/g, 'counter') : '';
  const sysctls: string[] = [];
  for (const key of SYSCTLS) {
    const file = `/proc/sys/${key.replaceAll('.', '/')}`;
    sysctls.push(`${key}=${(await pathExists(file)) ? (await readFile(file, 'utf8')).trim() : 'absent'}`);
  }
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => ({ point: l.split(' ')[4] ?? '', fstype: l.split(' - ')[1]?.split(' ')[0] ?? '' }))
    .filter((m) => DOCKER_MOUNT.test(m.point) || m.fstype === 'overlay')
    .map((m) => `${m.point} ${m.fstype}`)
    .sort()
    .join('\n');
  const dockerPaths: string[] = [];
  for (const p of SYSTEM_DOCKER_PATHS) dockerPaths.push(`${p} ${(await pathExists(p)) ? 'exists' : 'absent'}`);
  return { addresses, routes, iptables, nftables, sysctls: sysctls.join('\n'), mounts, dockerPaths: dockerPaths.join('\n') };
}

/** One line per field that differs, with the lines only one side has. */
export function diffHostState(before: HostState, after: HostState): string[] {
  const out: string[] = [];
  for (const key of Object.keys(before) as (keyof HostState)[]) {
    if (before[key] === after[key]) continue;
    const a = new Set(before[key].split('\n'));
    const b = new Set(after[key].split('\n'));
    const gone = [...a].filter((l) => !b.has(l));
    const added = [...b].filter((l) => !a.has(l));
    out.push(`${key}: removed [${gone.join(' | ')}] added [${added.join(' | ')}]`);
  }
  return out;
}

export interface TestDockerd {
  client: DockerClient;
  /** The folder holding the daemon's data root, exec root, socket, pid file and log. */
  root: string;
  log(): Promise<string>;
  /** Stops the daemon (SIGTERM, then SIGKILL), unmounts what is left below `root`, removes it. */
  stop(): Promise<void>;
}

async function mountsBelow(root: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === root || m.startsWith(`${root}/`));
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, stopEarly: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    if (stopEarly()) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function killByPidFile(file: string): Promise<void> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Starts a private dockerd, or returns the one-line reason why it cannot run here (the caller
 * skips its tests with that line).
 */
export async function startTestDockerd(prefix: string): Promise<TestDockerd | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'dockerd needs root' };
  const dockerd = await which('dockerd');
  if (!dockerd) return { skip: 'dockerd is not installed (scripts/setup.sh installs docker.io)' };
  if (!(await which('docker'))) return { skip: 'the docker CLI is not installed' };
  const root = await mkdtemp(path.join(tmpdir(), `${prefix}dockerd-`));
  const sock = `unix://${root}/docker.sock`;
  const logFile = path.join(root, 'dockerd.log');
  const logStream = createWriteStream(logFile);
  const args = [
    '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none',
    '--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'exec'), '--pidfile', path.join(root, 'dockerd.pid'),
    '-H', sock,
  ];
  const proc: ResultPromise = spawn(dockerd, args, { stdin: 'ignore', buffer: false });
  proc.stdout?.pipe(logStream, { end: false });
  proc.stderr?.pipe(logStream, { end: false });
  let exited = false;
  const ended = proc.then((r) => {
    exited = true;
    return r;
  });
  const client = new DockerClient({ host: sock });
  const log = () => readFile(logFile, 'utf8').catch(() => '');

  const stop = async (): Promise<void> => {
    if (!exited) {
      proc.kill('SIGTERM');
      const stopped = await waitFor(async () => exited, 30_000, () => exited);
      if (!stopped) proc.kill('SIGKILL');
      await ended;
    }
    // A daemon that died hard leaves its containerd (and its mounts) behind.
    await killByPidFile(path.join(root, 'exec', 'containerd', 'containerd.pid'));
    const umount = (await which('umount')) ?? '/usr/bin/umount';
    for (const m of (await mountsBelow(root)).sort((a, b) => b.length - a.length)) {
      await run(umount, ['--lazy', m], { allowFailure: true });
    }
    logStream.end();
    await rm(root, { recursive: true, force: true });
  };

  const ready = await waitFor(
    async () => (await run('docker', ['-H', sock, 'version', '--format', '{{.Server.Version}}'], { allowFailure: true, timeoutMs: 5_000 })).exitCode === 0,
    60_000,
    () => exited,
  );
  if (!ready) {
    const tail = (await log()).trim().split('\n').slice(-2).join(' | ') || 'no output';
    const cleanup = await stop().then(
      () => '',
      (err: Error) => ` (and its folder ${root} could not be removed: ${err.message})`,
    );
    return { skip: `dockerd did not start${exited ? ' (it exited)' : ' within 60 s'}: ${tail}`.slice(0, 400) + cleanup };
  }
  return { client, root, log, stop };
}
