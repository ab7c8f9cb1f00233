/**
 * The docker CLI, driven through the one exec wrapper (argument arrays, never shell strings).
 * What a command line looks like is decided by pure functions (`runArgs`, `networkCreateArgs`)
 * so it can be snapshot-tested; `DockerClient` only runs those lines and parses the JSON the
 * CLI prints. One client talks to one daemon: the default one, or `host` (`-H unix://…`), which
 * is how the tests reach their private dockerd without touching a system engine.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ResultPromise } from 'execa';
import { NetlabError } from '../../analyzer/errors.js';
import { formatCommand, run, spawn, which, type RunResult } from '../exec/exec.js';
import { pathExists } from '../exec/paths.js';

/** Everything `docker run` needs, as data. `runArgs` turns it into argv. */
export interface ContainerPlan {
  name: string;
  image: string;
  network: string;
  /** A fixed address on `network` (the network must have a user-defined subnet). */
  ipv4?: string;
  hostname?: string;
  capAdd: string[];
  privileged?: boolean;
  sysctls: Record<string, string>;
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Bind mounts from the host. */
  mounts?: { source: string; target: string; readOnly?: boolean }[];
  /** Replaces the image's ENTRYPOINT (then `cmd` are its arguments). */
  entrypoint?: string;
  cmd: string[];
  restart?: 'no' | 'on-failure' | 'always' | 'unless-stopped';
}

/** Options of `docker network create` that netlab uses. */
export interface NetworkCreateOptions {
  subnet: string;
  gateway?: string;
  /** An IPv6 subnet as well (kind's own network has one). */
  ipv6Subnet?: string;
  /** The Linux bridge's name on the host (default: br-<id>); lets a test recognise its own. */
  bridgeName?: string;
  /**
   * false: the host gets no address on the bridge (no route into the network from the host's
   * namespace), so traffic stays between the containers. Default true, as docker does.
   */
  hostAddress?: boolean;
  labels?: Record<string, string>;
}

export interface DockerSubnet {
  subnet: string;
  gateway: string | null;
  family: 4 | 6;
}

export interface DockerNetworkContainer {
  id: string;
  name: string;
  /** Address without prefix length; null when the container has none on this network. */
  ipv4: string | null;
  ipv6: string | null;
}

export interface DockerNetwork {
  name: string;
  id: string;
  driver: string;
  subnets: DockerSubnet[];
  containers: DockerNetworkContainer[];
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface DockerInfo {
  serverVersion: string;
  storageDriver: string;
  operatingSystem: string;
  kernelVersion: string;
  cgroupVersion: string;
  containers: number;
  images: number;
}

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

/** A command streaming its stdout out of a container (e.g. `tcpdump -U -w -`). */
export interface ExecStream {
  stdout: Readable;
  /** Everything the command printed on stderr so far (tcpdump's "listening on …"). */
  stderrText(): string;
  /** Resolves once the command's stderr contains `text` (rejects when it ends first). */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  /**
   * Ends the command inside the container (SIGINT, so tcpdump flushes; SIGKILL if it lingers)
   * and waits until the docker client has delivered the last bytes. Safe to call twice.
   */
  stop(): Promise<void>;
  /** Settles when the command has ended on its own or through stop(). */
  done: Promise<{ exitCode: number | undefined; signal: string | undefined }>;
}

function sortedPairs(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function flagPairs(flag: string, record: Record<string, string>): string[] {
  return sortedPairs(record).flatMap(([k, v]) => [flag, `${k}=${v}`]);
}

/**
 * argv (after `docker`) that starts the container detached. Never pulls: nothing can be pulled
 * on netlab's machines, so a missing image fails at once with docker's own message.
 */
export function runArgs(plan: ContainerPlan): string[] {
  const args = ['run', '--detach', '--pull', 'never', '--name', plan.name, '--network', plan.network];
  if (plan.ipv4) args.push('--ip', plan.ipv4);
  if (plan.hostname) args.push('--hostname', plan.hostname);
  for (const cap of [...plan.capAdd].sort()) args.push('--cap-add', cap);
  if (plan.privileged) args.push('--privileged');
  args.push(...flagPairs('--sysctl', plan.sysctls), ...flagPairs('--env', plan.env), ...flagPairs('--label', plan.labels));
  for (const m of plan.mounts ?? []) args.push('--volume', `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
  if (plan.restart) args.push('--restart', plan.restart);
  if (plan.entrypoint !== undefined) args.push('--entrypoint', plan.entrypoint);
  args.push(plan.image, ...plan.cmd);
  return args;
}

/** argv (after `docker`) of `docker network create` for a bridge network. */
export function networkCreateArgs(name: string, opts: NetworkCreateOptions): string[] {
  const args = ['network', 'create', '--driver', 'bridge', '--subnet', opts.subnet];
  if (opts.gateway) args.push('--gateway', opts.gateway);
  if (opts.ipv6Subnet) args.push('--ipv6', '--subnet', opts.ipv6Subnet);
  if (opts.bridgeName) args.push('--opt', `com.docker.network.bridge.name=${opts.bridgeName}`);
  if (opts.hostAddress === false) args.push('--opt', 'com.docker.network.bridge.inhibit_ipv4=true');
  args.push(...flagPairs('--label', opts.labels ?? {}), name);
  return args;
}

function stripPrefixLen(cidr: unknown): string | null {
  return typeof cidr === 'string' && cidr !== '' ? cidr.split('/')[0] : null;
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** Parses `docker network inspect NAME` output (a JSON array with one network). */
export function parseNetworkInspect(text: string, where = 'docker network inspect'): DockerNetwork {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new NetlabError(`not JSON: ${(err as Error).message}`, { where, hint: 'is the docker CLI printing warnings on stdout?' });
  }
  const net = Array.isArray(parsed) ? (parsed[0] as Record<string, unknown> | undefined) : undefined;
  if (!net || typeof net.Name !== 'string' || typeof net.Id !== 'string') {
    throw new NetlabError('expected an array holding one network with Name and Id', { where });
  }
  const ipam = (net.IPAM ?? {}) as { Config?: { Subnet?: string; Gateway?: string }[] | null };
  const subnets: DockerSubnet[] = (ipam.Config ?? [])
    .filter((c) => typeof c.Subnet === 'string')
    .map((c) => ({ subnet: c.Subnet as string, gateway: c.Gateway || null, family: (c.Subnet as string).includes(':') ? 6 : 4 }));
  const containers = Object.entries((net.Containers ?? {}) as Record<string, { Name?: string; IPv4Address?: string; IPv6Address?: string }>)
    .map(([id, c]) => ({ id, name: c.Name ?? id, ipv4: stripPrefixLen(c.IPv4Address), ipv6: stripPrefixLen(c.IPv6Address) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    name: net.Name,
    id: net.Id,
    driver: typeof net.Driver === 'string' ? net.Driver : '',
    subnets,
    containers,
    options: stringRecord(net.Options),
    labels: stringRecord(net.Labels),
  };
}

/** Parses `docker info --format '{{json .}}'`. */
export function parseInfo(text: string, where = 'docker info'): DockerInfo {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new NetlabError(`not JSON: ${(err as Error).message}`, { where });
  }
  if (typeof j.ServerVersion !== 'string' || j.ServerVersion === '') {
    const errors = Array.isArray(j.ServerErrors) ? j.ServerErrors.join('; ') : 'no server version';
    throw new NetlabError(`no Docker engine answered: ${errors}`, { where, hint: 'start dockerd (or pass the socket of one that runs)' });
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    serverVersion: j.ServerVersion,
    storageDriver: str(j.Driver),
    operatingSystem: str(j.OperatingSystem),
    kernelVersion: str(j.KernelVersion),
    cgroupVersion: str(j.CgroupVersion),
    containers: Number(j.Containers ?? 0),
    images: Number(j.Images ?? 0),
  };
}

const NOT_FOUND = /no such (container|image|object)|not found/i;

/** Host pids whose environment holds `marker` (a NUL-separated KEY=VALUE list in /proc/PID/environ). */
async function pidsWithEnv(marker: string): Promise<number[]> {
  const needle = Buffer.from(`\0${marker}\0`);
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = Buffer.concat([Buffer.from('\0'), await readFile(`/proc/${entry}/environ`)]);
      if (env.includes(needle)) found.push(Number(entry));
    } catch {
      // the process ended or is not ours to read
    }
  }
  return found;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export class DockerClient {
  /** The daemon address given to `-H`, or undefined for the CLI's default (DOCKER_HOST, /var/run/docker.sock). */
  readonly host: string | undefined;
  private readonly bin: string;

  constructor(opts: { host?: string; bin?: string } = {}) {
    this.host = opts.host;
    this.bin = opts.bin ?? 'docker';
  }

  /** Full argv for a docker subcommand, with `-H` when this client has a host. */
  argv(args: readonly string[]): string[] {
    return this.host ? ['-H', this.host, ...args] : [...args];
  }

  private async call(args: readonly string[], opts: { input?: string; timeoutMs?: number; allowFailure?: boolean; env?: Record<string, string> } = {}): Promise<RunResult> {
    const full = this.argv(args);
    const r = await run(this.bin, full, { allowFailure: true, input: opts.input, timeoutMs: opts.timeoutMs, env: opts.env });
    // execa reports a binary that could not be started as exit -1 with no output.
    if (r.exitCode === -1 && !r.stderr && !(this.bin.includes('/') ? await pathExists(this.bin) : await which(this.bin))) {
      throw new NetlabError(`${this.bin} is not installed`, { where: formatCommand(this.bin, full), hint: 'apt-get install -y docker.io (or run netlab doctor)' });
    }
    if (r.exitCode !== 0 && !opts.allowFailure) throw this.failure(full, r);
    return r;
  }

  private failure(full: string[], r: RunResult): NetlabError {
    const said = (r.stderr || r.stdout).trim().split('\n').slice(-4).join(' | ') || 'no output';
    const daemonDown = /Cannot connect to the Docker daemon|Is the docker daemon running|connect: no such file/i.test(said);
    return new NetlabError(`docker failed (exit ${r.exitCode}): ${said}`, {
      where: formatCommand(this.bin, full),
      hint: daemonDown ? `no Docker engine at ${this.host ?? 'the default socket'}: start dockerd, or run netlab doctor` : undefined,
    });
  }

  async info(): Promise<DockerInfo> {
    // With no daemon the CLI still prints client-side JSON, but exits 1 and says why on stderr.
    const r = await this.call(['info', '--format', '{{json .}}'], { timeoutMs: 20_000 });
    return parseInfo(r.stdout, formatCommand(this.bin, this.argv(['info'])));
  }

  async networkInspect(name: string): Promise<DockerNetwork> {
    const r = await this.call(['network', 'inspect', name]);
    return parseNetworkInspect(r.stdout, formatCommand(this.bin, this.argv(['network', 'inspect', name])));
  }

  /** Creates a bridge network; returns its id. */
  async networkCreate(name: string, opts: NetworkCreateOptions): Promise<string> {
    return (await this.call(networkCreateArgs(name, opts))).stdout.trim();
  }

  /** Removes a network; a network that does not exist is not an error. */
  async networkRemove(name: string): Promise<void> {
    const r = await this.call(['network', 'rm', name], { allowFailure: true });
    if (r.exitCode !== 0 && !NOT_FOUND.test(r.stderr)) throw this.failure(this.argv(['network', 'rm', name]), r);
  }

  /** Starts a container from a plan; returns its id. */
  async run(plan: ContainerPlan): Promise<string> {
    return (await this.call(runArgs(plan), { timeoutMs: 120_000 })).stdout.trim();
  }

  /** Runs a command in a running container to completion. */
  async exec(container: string, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    const args = ['exec', ...(opts.input === undefined ? [] : ['--interactive']), ...flagPairs('--env', opts.env ?? {}), container, ...argv];
    return this.call(args, { input: opts.input, timeoutMs: opts.timeoutMs, allowFailure: opts.allowFailure });
  }

  /**
   * Starts a command in a container and hands over its stdout as a byte stream. Killing a
   * `docker exec` client does not end the command inside the container, so the command carries
   * a unique environment marker and stop() signals it by its host pid (this needs the daemon on
   * this machine, which is the only case netlab has). For tcpdump pass `--immediate-mode` as
   * well as `-U`: without it packets wait in libpcap's ring and the SIGINT of stop() loses them.
   */
  execStream(container: string, argv: readonly string[]): ExecStream {
    const marker = `NETLAB_EXEC_STREAM=${randomBytes(8).toString('hex')}`;
    const full = this.argv(['exec', '--env', marker, container, ...argv]);
    const child: ResultPromise = spawn(this.bin, full, { stdin: 'ignore', buffer: false, encoding: 'buffer' });
    const stdout = child.stdout as Readable;
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const done = child.then((r) => ({ exitCode: r.exitCode, signal: r.signal ?? undefined }));
    let ended = false;
    void done.then(() => {
      ended = true;
    });
    let stopping: Promise<void> | null = null;
    const stop = async (): Promise<void> => {
      // Right after the start the command may not exist yet inside the container: look again.
      const deadline = Date.now() + 5_000;
      let pids: number[] = [];
      while (!ended && Date.now() < deadline) {
        pids = await pidsWithEnv(marker);
        if (pids.length > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (ended) return;
      signalAll(pids, 'SIGINT');
      const timer = setTimeout(() => {
        void pidsWithEnv(marker).then((left) => signalAll(left, 'SIGKILL'));
        child.kill('SIGKILL');
      }, 5_000);
      try {
        await done;
      } finally {
        clearTimeout(timer);
      }
    };
    return {
      stdout,
      stderrText: () => stderr,
      waitForStderr: (text, timeoutMs = 15_000) =>
        new Promise<void>((resolve, reject) => {
          if (stderr.includes(text)) return resolve();
          const timer = setTimeout(() => reject(new NetlabError(`timed out after ${timeoutMs} ms waiting for "${text}" on stderr (so far: ${stderr.trim() || 'nothing'})`, { where: formatCommand(this.bin, full) })), timeoutMs);
          const onData = () => {
            if (stderr.includes(text)) {
              clearTimeout(timer);
              child.stderr?.off('data', onData);
              resolve();
            }
          };
          child.stderr?.on('data', onData);
          void done.then((r) => {
            clearTimeout(timer);
            if (!stderr.includes(text)) reject(new NetlabError(`ended (exit ${r.exitCode}) before printing "${text}": ${stderr.trim() || 'no output'}`, { where: formatCommand(this.bin, full) }));
          });
        }),
      stop: () => (stopping ??= stop()),
      done,
    };
  }

  /** The host pid of the container's first process (for nsenter). */
  async pid(container: string): Promise<number> {
    const r = await this.call(['inspect', '--type', 'container', '--format', '{{.State.Pid}}', container]);
    const pid = Number(r.stdout.trim());
    if (!Number.isInteger(pid) || pid <= 0) {
      throw new NetlabError(`container is not running (State.Pid=${r.stdout.trim()})`, { where: container, hint: `see: docker ${this.host ? `-H ${this.host} ` : ''}logs ${container}` });
    }
    return pid;
  }

  /** The container's output so far (stdout and stderr), for error messages and logs. */
  async logs(container: string): Promise<string> {
    const r = await this.call(['logs', container], { allowFailure: true });
    return [r.stdout, r.stderr].filter(Boolean).join('\n');
  }

  /** Names of the containers (running or not) carrying `label` (`key` or `key=value`). */
  async containersWithLabel(label: string): Promise<string[]> {
    const r = await this.call(['ps', '--all', '--filter', `label=${label}`, '--format', '{{.Names}}']);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  }

  async start(container: string): Promise<void> {
    await this.call(['start', container], { timeoutMs: 60_000 });
  }

  /** Stops a container (SIGTERM, then SIGKILL after `graceSeconds`). */
  async stop(container: string, graceSeconds = 10): Promise<void> {
    await this.call(['stop', '--time', String(graceSeconds), container], { timeoutMs: (graceSeconds + 30) * 1000 });
  }

  /** Copies a host file or folder into a container (`docker cp`), e.g. a tool a node image lacks. */
  async copyTo(container: string, hostPath: string, containerPath: string): Promise<void> {
    await this.call(['cp', hostPath, `${container}:${containerPath}`], { timeoutMs: 120_000 });
  }

  /** Removes a container, running or not, with its anonymous volumes; a missing one is not an error. */
  async remove(container: string): Promise<void> {
    const r = await this.call(['rm', '--force', '--volumes', container], { allowFailure: true });
    if (r.exitCode !== 0 && !NOT_FOUND.test(r.stderr)) throw this.failure(this.argv(['rm', '--force', '--volumes', container]), r);
  }

  /** `docker import` of a rootfs tar with Dockerfile-style changes (ENV, WORKDIR, ENTRYPOINT…); returns the image id. */
  async imageImport(tarPath: string, tag: string, changes: readonly string[]): Promise<string> {
    const args = ['import', ...changes.flatMap((c) => ['--change', c]), tarPath, tag];
    return (await this.call(args, { timeoutMs: 600_000 })).stdout.trim();
  }

  async imageExists(tag: string): Promise<boolean> {
    const r = await this.call(['image', 'inspect', '--format', '{{.Id}}', tag], { allowFailure: true });
    if (r.exitCode === 0) return true;
    if (NOT_FOUND.test(r.stderr)) return false;
    throw this.failure(this.argv(['image', 'inspect', tag]), r);
  }

  /** `repository:tag` of every tagged image in the engine, sorted. */
  async images(): Promise<string[]> {
    const r = await this.call(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { timeoutMs: 20_000 });
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.includes('<none>')).sort();
  }

  /** Removes an image tag; a missing one is not an error. */
  async imageRemove(tag: string): Promise<void> {
    const r = await this.call(['image', 'rm', '--force', tag], { allowFailure: true });
    if (r.exitCode !== 0 && !NOT_FOUND.test(r.stderr)) throw this.failure(this.argv(['image', 'rm', tag]), r);
  }
}
