import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { DockerClient, networkCreateArgs, parseInfo, parseNetworkInspect, runArgs, type ContainerPlan } from '../../../cluster/docker/client.js';
import { PROJECT_ROOT } from '../../../cluster/exec/paths.js';

const emulator: ContainerPlan = {
  name: 'netlab-nlb-emulator',
  image: 'netlab:0.1.0-0123456789ab',
  network: 'kind',
  ipv4: '172.18.255.10',
  hostname: 'nlb',
  capAdd: ['NET_RAW', 'NET_ADMIN'],
  sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0' },
  env: { NETLAB_ZONE: 'a', KUBECONFIG: '/etc/netlab/kubeconfig' },
  labels: { 'netlab.role': 'nlb', 'netlab.lab': 'demo' },
  mounts: [{ source: '/tmp/netlab/kubeconfig', target: '/etc/netlab/kubeconfig', readOnly: true }],
  cmd: ['dist/cluster/nlb/agent/main.js', '--zone', 'a'],
  restart: 'unless-stopped',
};

describe('runArgs', () => {
  it('turns a plan into docker run argv: sorted flags, never pulls, image then command', () => {
    expect(runArgs(emulator)).toMatchSnapshot();
  });

  it('a minimal client plan: no address, an entrypoint override, privileged', () => {
    const client: ContainerPlan = { name: 'c', image: 'netlab:x', network: 'n', capAdd: [], privileged: true, sysctls: {}, env: {}, labels: {}, entrypoint: 'sleep', cmd: ['infinity'] };
    expect(runArgs(client).join(' ')).toMatchInlineSnapshot(`"run --detach --pull never --name c --network n --privileged --entrypoint sleep netlab:x infinity"`);
  });
});

describe('networkCreateArgs', () => {
  it('a lab network without a host address, and a kind-like dual-stack one', () => {
    expect(networkCreateArgs('t1a2b-net', { subnet: '172.18.251.0/24', bridgeName: 't1a2b-br', hostAddress: false, labels: { 'netlab.test': 't1a2b' } })).toMatchSnapshot();
    expect(networkCreateArgs('kind', { subnet: '172.18.0.0/16', gateway: '172.18.0.1', ipv6Subnet: 'fc00:f853:ccd:e793::/64' })).toMatchSnapshot();
  });
});

describe('parseNetworkInspect', () => {
  it('reads subnets (IPv4 with gateway, IPv6 without) and container addresses from a recorded inspect', async () => {
    const text = await readFile(path.join(PROJECT_ROOT, 'fixtures/docker/network-inspect-kind-shaped.json'), 'utf8');
    const net = parseNetworkInspect(text);
    expect(net.name).toBe('kind');
    expect(net.subnets).toEqual([
      { subnet: '172.18.252.0/24', gateway: '172.18.252.1', family: 4 },
      { subnet: 'fc00:f853:ccd:e793::/64', gateway: null, family: 6 },
    ]);
    expect(net.containers.map((c) => [c.name, c.ipv4, c.ipv6])).toEqual([
      ['kind-control-plane', '172.18.252.2', 'fc00:f853:ccd:e793::2'],
      ['kind-worker', '172.18.252.3', 'fc00:f853:ccd:e793::3'],
    ]);
    expect(net.options['com.docker.network.bridge.inhibit_ipv4']).toBe('true');
  });

  it('a network with no containers and no gateway', () => {
    const net = parseNetworkInspect(JSON.stringify([{ Name: 'n', Id: 'abc', Driver: 'bridge', IPAM: { Config: [{ Subnet: '172.18.251.0/24' }] }, Containers: {} }]));
    expect(net).toEqual({ name: 'n', id: 'abc', driver: 'bridge', subnets: [{ subnet: '172.18.251.0/24', gateway: null, family: 4 }], containers: [], options: {}, labels: {} });
  });

  it('says where when the output is not one network', () => {
    const oneLine = (text: string) => {
      try {
        parseNetworkInspect(text, 'docker network inspect x');
      } catch (err) {
        return (err as NetlabError).oneLine();
      }
      return 'parsed';
    };
    expect(oneLine('[]')).toBe('docker network inspect x: expected an array holding one network with Name and Id');
    expect(oneLine('Error: x')).toMatch(/^docker network inspect x: not JSON: .* — is the docker CLI printing warnings on stdout\?$/);
  });
});

describe('parseInfo', () => {
  it('reads the fields netlab reports (trimmed from a real daemon on this machine)', () => {
    const info = parseInfo('{"ServerVersion":"20.10.24+dfsg1","Driver":"overlay2","OperatingSystem":"Debian GNU/Linux 12 (bookworm)","KernelVersion":"6.18.44","CgroupVersion":"1","Containers":2,"Images":1,"ServerErrors":null}');
    expect(info).toEqual({ serverVersion: '20.10.24+dfsg1', storageDriver: 'overlay2', operatingSystem: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.18.44', cgroupVersion: '1', containers: 2, images: 1 });
  });

  it('an answer without a server version is no engine', () => {
    expect(() => parseInfo('{"ServerVersion":"","ServerErrors":["Cannot connect"]}')).toThrow(/no Docker engine answered: Cannot connect/);
  });
});

/**
 * A fake `docker` on disk: records its argv, answers a few subcommands with what the real CLI
 * prints, and runs `exec` commands the way dockerd does — as a separate process that outlives
 * the client when the client is killed.
 */
const FAKE_DOCKER = `#!/usr/bin/env node
const { appendFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
appendFileSync(process.env.FAKE_DOCKER_LOG, JSON.stringify(args) + '\\n');
let a = args;
if (a[0] === '-H') a = a.slice(2);
const fail = (msg, code = 1) => { process.stderr.write(msg + '\\n'); process.exit(code); };
switch (a[0]) {
  case 'info': fail('Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?');
  case 'rm': a.includes('gone') ? fail('Error response from daemon: No such container: gone') : a.includes('busy') ? fail('Error response from daemon: device or resource busy') : process.exit(0);
  case 'image': a.includes('missing:1') ? fail('Error response from daemon: No such image: missing:1') : (process.stdout.write('sha256:abc\\n'), process.exit(0));
  case 'exec': {
    let i = 1; const env = {};
    while (a[i] === '--env') { const [k, ...v] = a[i + 1].split('='); env[k] = v.join('='); i += 2; }
    const child = spawn(a[i + 1], a.slice(i + 2), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.pipe(process.stdout);
    child.stderr.pipe(process.stderr);
    child.on('close', (code) => process.exit(code ?? 1));
    break;
  }
  default: fail('fake docker: unexpected ' + a.join(' '), 2);
}
`;

/** Stands in for `tcpdump -U -w -`: says it listens, streams bytes, and flushes a trailer on SIGINT. */
const FAKE_TCPDUMP = `
process.stderr.write('listening on eth0\\n');
const timer = setInterval(() => process.stdout.write(Buffer.alloc(100, 1)), 10);
process.on('SIGINT', () => { clearInterval(timer); process.stdout.write('FLUSHED', () => process.exit(0)); });
`;

describe('DockerClient against a fake docker binary', () => {
  let dir: string;
  let docker: DockerClient;
  const calls = async () => (await readFile(path.join(dir, 'calls.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'netlab-fake-docker-'));
    await writeFile(path.join(dir, 'docker'), FAKE_DOCKER);
    await chmod(path.join(dir, 'docker'), 0o755);
    await writeFile(path.join(dir, 'fake-tcpdump.cjs'), FAKE_TCPDUMP);
    process.env.FAKE_DOCKER_LOG = path.join(dir, 'calls.ndjson');
    docker = new DockerClient({ host: 'unix:///x.sock', bin: path.join(dir, 'docker') });
  });

  afterAll(async () => {
    delete process.env.FAKE_DOCKER_LOG;
    await rm(dir, { recursive: true, force: true });
  });

  it('passes -H first, treats a missing container or image as absent, reports other failures with the command', async () => {
    await docker.remove('gone');
    await expect(docker.imageExists('missing:1')).resolves.toBe(false);
    await expect(docker.imageExists('netlab:1')).resolves.toBe(true);
    const busy = await docker.remove('busy').catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(NetlabError);
    expect((busy as NetlabError).oneLine()).toMatch(/docker -H unix:\/\/\/x\.sock rm --force --volumes busy: docker failed \(exit 1\): Error response from daemon: device or resource busy/);
    expect((await calls()).every((c) => c[0] === '-H' && c[1] === 'unix:///x.sock')).toBe(true);
  });

  it('no docker binary: one line saying so, for every call', async () => {
    const missing = new DockerClient({ bin: path.join(dir, 'no-such-docker') });
    const err = await missing.remove('x').catch((e: unknown) => e);
    expect((err as NetlabError).oneLine()).toBe(`${path.join(dir, 'no-such-docker')} rm --force --volumes x: ${path.join(dir, 'no-such-docker')} is not installed — apt-get install -y docker.io (or run netlab doctor)`);
  });

  it('no daemon: one line naming the socket and what to do', async () => {
    const err = await docker.info().catch((e: unknown) => e);
    expect((err as NetlabError).oneLine()).toMatch(/Cannot connect to the Docker daemon.*no Docker engine at unix:\/\/\/x\.sock: start dockerd/);
  });

  it('execStream: stop() ends the command itself (not only the client), and its last bytes arrive', async () => {
    const s = docker.execStream('c1', [process.execPath, path.join(dir, 'fake-tcpdump.cjs')]);
    const chunks: Buffer[] = [];
    s.stdout.on('data', (c: Buffer) => chunks.push(c));
    await s.waitForStderr('listening on');
    await new Promise<void>((resolve) => s.stdout.once('data', () => resolve()));
    await s.stop();
    const all = Buffer.concat(chunks);
    expect(all.length).toBeGreaterThan(100);
    expect(all.subarray(-7).toString()).toBe('FLUSHED');
    expect((await s.done).exitCode).toBe(0);
    const execCall = (await calls()).find((c) => c[2] === 'exec')!;
    expect(execCall[3]).toBe('--env');
    expect(execCall[4]).toMatch(/^NETLAB_EXEC_STREAM=[0-9a-f]{16}$/);
    await s.stop();
  });

  it('execStream: waitForStderr rejects when the command ends without printing it', async () => {
    const s = docker.execStream('c1', [process.execPath, '--version']);
    await expect(s.waitForStderr('listening on', 10_000)).rejects.toThrow(/ended \(exit 0\) before printing "listening on"/);
  });
});
