/**
 * The kind provider's Docker-only parts on a real engine (a private dockerd; no kind, no
 * Kubernetes): the client container from `clientPlan` with the routes of `clientRoutingPlan`
 * (198.51.100.10 as source towards the NLB's /27, replies routed back to it), an echo container
 * standing in for the NLB emulator at the first NLB address, the NLB name resolved in the client
 * by `resolveInClientArgv`, and capture helpers from `kindCapturePlan` run by `startKindCapture`
 * — joined to a container's network namespace, and entering one by pid with nsenter as pod
 * captures do — then `teardown` removing every container by label. Real packets, decoded.
 *
 * Traffic flows only between these containers on a bridge the host has no address on. Skipped,
 * with the reason printed, where dockerd cannot start.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStream, ipv4ToString, PROTO, TCP_FLAG } from '../../../analyzer/decode/index.js';
import { buildImage, IMAGE_APP_DIR, type BuiltImage } from '../../../cluster/docker/image.js';
import { kindCapturePlan } from '../../../cluster/kind/capture-plan.js';
import { resolveInClientArgv } from '../../../cluster/kind/capture.js';
import { startKindCapture } from '../../../cluster/kind/capturer.js';
import { clientName, clientPlan, clientRoutingPlan, emulatorName, KIND_NETWORK, LAB_LABEL } from '../../../cluster/kind/containers.js';
import { teardown } from '../../../cluster/kind/delete.js';
import { kindAddressPlan, parseIpv4Subnet } from '../../../cluster/kind/network.js';
import { newKindState } from '../../../cluster/kind/provision.js';
import { writeKindState } from '../../../cluster/kind/state.js';
import { diffHostState, snapshotHostState, startTestDockerd, type HostState, type TestDockerd } from '../../support/dockerd.js';

const prefix = `t${randomBytes(2).toString('hex')}-`;
const lab = `${prefix}k`.replace(/-$/, '');
const subnet = `172.18.${randomInt(150, 199)}.0/24`;
const addresses = kindAddressPlan(parseIpv4Subnet(subnet)!, ['a', 'b']);
const lbIp = addresses.nlbPool.start;
const DNS = 'k8s-default-echo-0123456789-abcdef.elb.lab-1.amazonaws.com';
const REQUESTS = 6;

let before: HostState;
let dockerd: TestDockerd | undefined;
let skipReason: string | null = null;
let image: BuiltImage | undefined;
let home = '';
let done = false;

async function cleanup(): Promise<void> {
  if (done || !dockerd) return;
  done = true;
  const d = dockerd.client;
  for (const c of await d.containersWithLabel(`${LAB_LABEL}=${lab}`).catch(() => [])) await d.remove(c).catch(() => undefined);
  await d.networkRemove(KIND_NETWORK).catch(() => undefined);
  if (image) await d.imageRemove(image.tag).catch(() => undefined);
  await dockerd.stop();
  if (home) await rm(home, { recursive: true, force: true });
  delete process.env.NETLAB_KIND_DIR;
}

describe("the kind provider's Docker parts on a real engine (private dockerd)", () => {
  beforeAll(async () => {
    before = await snapshotHostState();
    const started = await startTestDockerd(prefix);
    if ('skip' in started) {
      skipReason = started.skip;
      console.log(`SKIPPED kind docker e2e: ${skipReason}`);
      return;
    }
    dockerd = started;
    home = await mkdtemp(path.join(tmpdir(), `${prefix}home-`));
    process.env.NETLAB_KIND_DIR = path.join(home, 'kind');
  }, 120_000);

  afterAll(cleanup, 120_000);

  it('client 198.51.100.10 reaches the NLB address by name; helpers capture it at both ends and inside by pid; teardown removes it all', async (ctx) => {
    if (!dockerd) return ctx.skip(skipReason ?? 'no dockerd');
    const d = dockerd.client;
    image = await buildImage(d);
    const netlabImage = { tag: image.tag, root: IMAGE_APP_DIR };
    await d.networkCreate(KIND_NETWORK, { subnet, bridgeName: `${prefix}br`, hostAddress: false, labels: { [LAB_LABEL]: lab } });
    // The emulator's stand-in: netlab's echo at the NLB's first address (the real emulator needs a cluster API).
    await d.run({
      name: emulatorName(lab), image: image.tag, network: KIND_NETWORK, ipv4: lbIp, capAdd: ['NET_ADMIN', 'NET_RAW'], sysctls: {}, env: {},
      labels: { [LAB_LABEL]: lab }, entrypoint: 'node', cmd: [`${IMAGE_APP_DIR}/dist/cluster/workloads/echo.js`, '--hostname', 'lb-echo', '--port', '80'],
    });
    await d.run(clientPlan(lab, netlabImage, addresses));
    for (const c of clientRoutingPlan(lab, [], addresses)) await d.exec(c.container, c.argv);
    await d.exec(clientName(lab), resolveInClientArgv(DNS, [lbIp]));
    expect((await d.exec(clientName(lab), ['cat', '/etc/hosts'])).stdout).toContain(`${lbIp} ${DNS}`);
    for (let i = 0; i < 100 && !(await d.logs(emulatorName(lab))).includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));

    const state = newKindState({ name: lab, workers: 2, zones: ['a', 'b'], timeScale: 1 });
    state.resources.containers = [emulatorName(lab), clientName(lab)];
    await writeKindState(state);

    const out = path.join(home, 'run');
    await rm(out, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(out, { recursive: true }));
    const echoPid = 1;
    const plan = kindCapturePlan(lab, 'e2e', image.tag, [
      { target: { name: 'client', role: 'client', netns: 'c', node: null, pod: null, namespace: null, interfaces: ['eth0'] }, container: clientName(lab) },
      { target: { name: 'nlb', role: 'lb', netns: 'n', node: null, pod: null, namespace: null, interfaces: ['eth0'] }, container: emulatorName(lab) },
      { target: { name: 'by-pid', role: 'pod', netns: 'p', node: emulatorName(lab), pod: 'by-pid', namespace: 'default', interfaces: ['eth0'] }, container: emulatorName(lab), pod: { node: emulatorName(lab), pid: echoPid } },
    ], 'tcp port 80');
    const cap = await startKindCapture(d, plan, out);
    const r = await d.exec(clientName(lab), ['node', `${IMAGE_APP_DIR}/dist/cluster/traffic/http-client.js`, '--url', `http://${DNS}/`, '--requests', String(REQUESTS)]);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number | null; hostname: string | null; clientAddress: string | null; remote: string | null });
    expect(results.map((x) => [x.status, x.hostname, x.clientAddress, x.remote?.split(':')[0]])).toEqual(Array.from({ length: REQUESTS }, () => [200, 'lb-echo', '198.51.100.10', lbIp]));
    const files = await cap.stop();

    for (const f of files) {
      expect(f.ifindexMap && Object.values(f.ifindexMap)).toContain('eth0');
      expect(f.packets).toBeGreaterThanOrEqual(REQUESTS * 6);
      const syns = new Set<string>();
      await decodeStream(createReadStream(f.file), (rec) => {
        if (rec.proto === PROTO.TCP && (rec.tcpFlags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === TCP_FLAG.SYN) syns.add(`${ipv4ToString(rec.src4)}:${rec.sport} > ${ipv4ToString(rec.dst4)}:${rec.dport}`);
      });
      expect(syns.size).toBe(REQUESTS);
      for (const s of syns) expect(s).toMatch(new RegExp(`^198\\.51\\.100\\.10:\\d+ > ${lbIp.replaceAll('.', '\\.')}:80$`));
    }
    console.log(`kind docker e2e: ${files.map((f) => `${f.target.name} ${f.packets} packets`).join(', ')}`);

    // teardown: every labelled container (and no capture helper is left), kind not called (no cluster recorded).
    expect(await teardown(lab, { docker: d, kind: 'kind-is-not-called', log: () => undefined })).toBe(true);
    expect(await d.containersWithLabel(`${LAB_LABEL}=${lab}`)).toEqual([]);
    expect(await d.containersWithLabel(`netlab.capture=${lab}`)).toEqual([]);
  }, 600_000);

  it('leaves the host as it was', async (ctx) => {
    if (!dockerd) return ctx.skip(skipReason ?? 'no dockerd');
    await cleanup();
    expect(diffHostState(before, await snapshotHostState())).toEqual([]);
  }, 120_000);
});
