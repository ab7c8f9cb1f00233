/**
 * The Docker-only parts of the kind provider against a real engine: a private dockerd (Debian's
 * docker.io), the netlab image built from this host's files, a user-defined network, an
 * emulator-like container running netlab's echo workload and a client container, `docker exec`
 * capture streaming decoded live, and cleanup that leaves the host as it was.
 *
 * Traffic flows only between the two containers, on a bridge the host has no address on.
 * Skipped, with the reason printed, where dockerd cannot start.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStream, ipv4ToString, PROTO, TCP_FLAG, type DecodeSummary } from '../../../analyzer/decode/index.js';
import type { ContainerPlan } from '../../../cluster/docker/client.js';
import { dockerCheckResults, gatherDockerFacts } from '../../../cluster/docker/doctor.js';
import { buildImage, type BuiltImage } from '../../../cluster/docker/image.js';
import { run } from '../../../cluster/exec/exec.js';
import { diffHostState, snapshotHostState, startTestDockerd, type HostState, type TestDockerd } from '../../support/dockerd.js';

const prefix = `t${randomBytes(2).toString('hex')}-`;
// A /24 of the lab's 172.18.0.0/16 picked per run, so two runs on one machine do not collide.
const third = randomInt(200, 250);
const subnet = `172.18.${third}.0/24`;
const echoIp = `172.18.${third}.10`;
const clientIp = `172.18.${third}.20`;
const nlbIp = `172.18.${third}.30`;
const network = `${prefix}net`;
const echoName = `${prefix}echo`;
const clientName = `${prefix}client`;
const nlbName = `${prefix}nlb`;
const REQUESTS = 5;

let before: HostState;
let dockerd: TestDockerd | undefined;
let skipReason: string | null = null;
let image: BuiltImage | undefined;
let cleanedUp = false;

async function cleanup(): Promise<void> {
  if (cleanedUp || !dockerd) return;
  cleanedUp = true;
  const d = dockerd.client;
  for (const c of [clientName, echoName, nlbName]) await d.remove(c).catch(() => undefined);
  await d.networkRemove(network).catch(() => undefined);
  if (image) await d.imageRemove(image.tag).catch(() => undefined);
  await dockerd.stop();
}

function needDockerd(ctx: { skip: (note?: string) => void }): TestDockerd {
  if (!dockerd) ctx.skip(skipReason ?? 'no dockerd');
  return dockerd!;
}

describe('netlab on a real Docker engine (private dockerd)', () => {
  beforeAll(async () => {
    before = await snapshotHostState();
    const started = await startTestDockerd(prefix);
    if ('skip' in started) {
      skipReason = started.skip;
      console.log(`SKIPPED docker e2e: ${skipReason}`);
      return;
    }
    dockerd = started;
  });

  afterAll(async () => {
    await cleanup();
  });

  it('answers docker info with the private engine', async (ctx) => {
    const d = needDockerd(ctx);
    const info = await d.client.info();
    expect(info.serverVersion).toMatch(/^\d+\.\d+/);
    expect(info.containers).toBe(0);
  });

  it('builds the netlab image from host files, once per content hash', async (ctx) => {
    const d = needDockerd(ctx);
    const t0 = performance.now();
    image = await buildImage(d.client);
    const first = performance.now() - t0;
    expect(image.built).toBe(true);
    expect(image.tag).toMatch(/^netlab:\d+\.\d+\.\d+-[0-9a-f]{12}$/);
    const again = await buildImage(d.client);
    expect(again).toEqual({ tag: image.tag, built: false, tarBytes: 0 });
    console.log(`netlab image ${image.tag}: ${(image.tarBytes / 1e6).toFixed(0)} MB rootfs tar, built in ${(first / 1000).toFixed(1)} s`);
    // netlab doctor's Docker rows, pointed at this engine.
    const rows = dockerCheckResults(await gatherDockerFacts(d.client));
    expect(rows.map((r) => [r.name, r.status])).toEqual([
      ['dockerd', 'ok'],
      ['docker engine', 'ok'],
      ['netlab image', 'ok'],
      ['kindest/node image', 'missing'],
    ]);
    expect(rows[2]!.detail).toBe(image.tag);
  });

  it('runs three containers on a user-defined network that inspect reports with its real subnet', async (ctx) => {
    const d = needDockerd(ctx);
    if (!image) ctx.skip('no image');
    await d.client.networkCreate(network, { subnet, bridgeName: `${prefix}br`, hostAddress: false, labels: { 'netlab.test': prefix } });
    const base = { image: image!.tag, network, sysctls: {}, env: {}, labels: { 'netlab.test': prefix } };
    const echo: ContainerPlan = { ...base, name: echoName, ipv4: echoIp, capAdd: ['NET_ADMIN', 'NET_RAW'], cmd: ['dist/cluster/workloads/echo.js', '--hostname', echoName, '--port', '8080'] };
    const client: ContainerPlan = { ...base, name: clientName, ipv4: clientIp, capAdd: [], entrypoint: 'sleep', cmd: ['infinity'] };
    // Like the NLB emulator's data plane: forwarding on, no redirects (client and target share the subnet).
    const nlb: ContainerPlan = {
      ...base, name: nlbName, ipv4: nlbIp, capAdd: ['NET_ADMIN', 'NET_RAW'], entrypoint: 'sleep', cmd: ['infinity'],
      sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.send_redirects': '0', 'net.ipv4.conf.eth0.send_redirects': '0' },
    };
    await d.client.run(echo);
    await d.client.run(client);
    await d.client.run(nlb);

    const net = await d.client.networkInspect(network);
    expect(net.subnets).toEqual([{ subnet, gateway: null, family: 4 }]);
    expect(net.containers.map((c) => [c.name, c.ipv4])).toEqual([
      [clientName, clientIp],
      [echoName, echoIp],
      [nlbName, nlbIp],
    ]);
    // The pid is the container's: its network namespace holds the echo address.
    const pid = await d.client.pid(echoName);
    const addrs = await run('nsenter', ['-t', String(pid), '-n', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    expect(addrs.stdout).toContain(`inet ${echoIp}/24`);
    // NET_ADMIN inside: iptables works in the emulator-like container (its own netns, not the host's).
    const nat = await d.client.exec(echoName, ['iptables', '-t', 'nat', '-S', 'PREROUTING']);
    expect(nat.stdout).toContain('-P PREROUTING ACCEPT');
  });

  it('streams tcpdump out of the echo container while the client sends HTTP, and the decoder sees the requests', async (ctx) => {
    const d = needDockerd(ctx);
    if (!image) ctx.skip('no image');
    const ready = async () => (await d.client.logs(echoName)).includes('"listening"');
    for (let i = 0; i < 100 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ready()).toBe(true);

    const capture = d.client.execStream(echoName, ['tcpdump', '--immediate-mode', '-U', '-n', '-i', 'eth0', '-w', '-', 'tcp port 8080']);
    // Keyed by the connection's client port, so a retransmitted segment under load counts once.
    const syns = new Map<number, string>();
    const requestLines = new Map<number, string>();
    const clientAddresses = new Map<number, string>();
    const text = (bytes: Uint8Array, off: number, len: number) => Buffer.from(bytes.buffer, bytes.byteOffset + off, len).toString('latin1');
    const decoded: Promise<DecodeSummary> = decodeStream(capture.stdout, (rec) => {
      if (rec.proto !== PROTO.TCP) return;
      if ((rec.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === TCP_FLAG.SYN) syns.set(rec.sport, `${ipv4ToString(rec.src4)} > ${ipv4ToString(rec.dst4)}:${rec.dport}`);
      const h = rec.http;
      if (h.present && h.isRequest && h.methodOff >= 0) requestLines.set(rec.sport, `${text(rec.bytes, h.methodOff, h.methodLen)} ${text(rec.bytes, h.pathOff, h.pathLen)}`);
      if (h.present && h.clientAddrOff >= 0) clientAddresses.set(rec.dport, text(rec.bytes, h.clientAddrOff, h.clientAddrLen));
    }, { source: `docker exec ${echoName} tcpdump` });
    await capture.waitForStderr('listening on');

    const r = await d.client.exec(clientName, ['node', 'dist/cluster/traffic/http-client.js', '--url', `http://${echoIp}:8080/hello`, '--requests', String(REQUESTS)]);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number | null; clientAddress: string | null; hostname: string | null });
    expect(results.map((x) => [x.status, x.hostname, x.clientAddress])).toEqual(Array.from({ length: REQUESTS }, () => [200, echoName, clientIp]));

    // The last response was written before the client printed it; wait until the decoder has it too.
    for (let i = 0; i < 100 && clientAddresses.size < REQUESTS; i++) await new Promise((res) => setTimeout(res, 50));
    await capture.stop();
    const summary = await decoded;
    expect(summary.packets).toBeGreaterThanOrEqual(REQUESTS * 6);
    const same = (value: string) => Array.from({ length: REQUESTS }, () => value);
    expect([...syns.values()]).toEqual(same(`${clientIp} > ${echoIp}:8080`));
    expect([...requestLines.values()]).toEqual(same('GET /hello'));
    expect([...clientAddresses.values()]).toEqual(same(clientIp));
    // Each connection: its SYN, its request and the response to the same client port.
    expect([...requestLines.keys()].sort()).toEqual([...syns.keys()].sort());
    expect([...clientAddresses.keys()].sort()).toEqual([...syns.keys()].sort());
    // stop() ended tcpdump inside the container, not just the docker client.
    const procs = (await d.client.exec(echoName, ['ls', '/proc'])).stdout.split('\n').filter((p) => /^\d+$/.test(p));
    const comms = await d.client.exec(echoName, ['cat', ...procs.map((p) => `/proc/${p}/comm`)], { allowFailure: true });
    const cmds = comms.stdout.split('\n');
    expect(cmds).toContain('node');
    expect(cmds).not.toContain('tcpdump');
  });

  it('an NLB-like container rewrites with iptables (DNAT + SNAT): captured inside it, both sides of the NAT; the echo sees the NLB', async (ctx) => {
    const d = needDockerd(ctx);
    if (!image) ctx.skip('no image');
    const rules = [
      ['-t', 'nat', '-A', 'PREROUTING', '-d', nlbIp, '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `${echoIp}:8080`],
      ['-t', 'nat', '-A', 'POSTROUTING', '-d', echoIp, '-p', 'tcp', '--dport', '8080', '-j', 'MASQUERADE'],
    ];
    for (const r of rules) await d.client.exec(nlbName, ['iptables', ...r]);

    const capture = d.client.execStream(nlbName, ['tcpdump', '--immediate-mode', '-U', '-n', '-i', 'eth0', '-w', '-', 'tcp']);
    // Every packet of a connection carries the same IP ID sequence before and after the NAT; the
    // SYN's IP ID joins the client's SYN with the one the NLB sends on.
    const synsById = new Map<number, string[]>();
    const decoded = decodeStream(capture.stdout, (rec) => {
      if (rec.proto !== PROTO.TCP || (rec.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) !== TCP_FLAG.SYN) return;
      const seen = synsById.get(rec.ipId) ?? [];
      const line = `${ipv4ToString(rec.src4)} > ${ipv4ToString(rec.dst4)}:${rec.dport}`;
      if (!seen.includes(line)) seen.push(line);
      synsById.set(rec.ipId, seen);
    });
    await capture.waitForStderr('listening on');
    const r = await d.client.exec(clientName, ['node', 'dist/cluster/traffic/http-client.js', '--url', `http://${nlbIp}/`, '--requests', String(REQUESTS)]);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number | null; clientAddress: string | null });
    // ip mode without client IP preservation: the app sees the NLB's address, not the client's.
    expect(results.map((x) => [x.status, x.clientAddress])).toEqual(Array.from({ length: REQUESTS }, () => [200, nlbIp]));
    await capture.stop();
    await decoded;
    // Every SYN the client sent was seen again leaving the NLB, rewritten on both addresses.
    expect(synsById.size).toBeGreaterThanOrEqual(REQUESTS);
    for (const seen of synsById.values()) expect(seen).toEqual([`${clientIp} > ${nlbIp}:80`, `${nlbIp} > ${echoIp}:8080`]);
  });

  it('lists containers by label, copies a file in, stops and starts one', async (ctx) => {
    const d = needDockerd(ctx);
    if (!image) ctx.skip('no image');
    expect(await d.client.containersWithLabel(`netlab.test=${prefix}`)).toEqual([clientName, echoName, nlbName].sort());
    const dir = await mkdtemp(path.join(tmpdir(), `${prefix}cp-`));
    try {
      await writeFile(path.join(dir, 'note.txt'), 'copied by docker cp\n');
      await d.client.copyTo(clientName, path.join(dir, 'note.txt'), '/tmp/note.txt');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await d.client.exec(clientName, ['cat', '/tmp/note.txt'])).stdout).toBe('copied by docker cp');
    await d.client.stop(clientName, 1);
    await expect(d.client.pid(clientName)).rejects.toThrow(/container is not running/);
    await d.client.start(clientName);
    expect(await d.client.pid(clientName)).toBeGreaterThan(0);
    expect((await d.client.networkInspect(network)).containers.find((c) => c.name === clientName)?.ipv4).toBe(clientIp);
  });

  it('removes containers, network, image and daemon, and the host is as before', async (ctx) => {
    needDockerd(ctx);
    await cleanup();
    expect(diffHostState(before, await snapshotHostState())).toEqual([]);
  });
});
