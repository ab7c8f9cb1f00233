#!/usr/bin/env node
/**
 * The NLB emulator in API mode: one process in its own network namespace (its container on a
 * kind network), driven by a Kubernetes API. See docs/nlb.md, "API mode".
 * Usage: main.js --kubeconfig K --zones a=IP,b=IP --interface eth0 [options]
 */
import { NetlabError } from '../../../analyzer/errors.js';
import { KubeClient } from '../../kube/client.js';
import { probe } from '../health/probe.js';
import { addAddress, applyOwnChains, ensureForwarding, linkInfo, removeAddress, removeOwnChains, removeRoute, setRoute } from './apply.js';
import { ApiNlbController } from './controller.js';
import { parseApiOptions } from './options.js';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

async function main(): Promise<void> {
  const opts = parseApiOptions(process.argv.slice(2));
  const kube = KubeClient.fromOptions({ kubeconfig: opts.kubeconfig, context: opts.context }, 'netlab-nlb');
  const link = await linkInfo(opts.iface);
  await ensureForwarding();
  const addedZoneIps: string[] = [];
  for (const z of opts.zones) {
    if (link.addresses.includes(z.ip)) continue;
    await addAddress(opts.iface, z.ip);
    addedZoneIps.push(z.ip);
  }
  const controller = new ApiNlbController({
    kube,
    zones: opts.zones,
    pool: opts.pool,
    clusterName: opts.clusterName,
    region: opts.region,
    timeScale: opts.timeScale,
    statusNamespace: opts.statusNamespace,
    statusName: opts.statusName,
    log,
    system: {
      addAddress: (ip) => addAddress(opts.iface, ip),
      removeAddress: (ip) => removeAddress(opts.iface, ip),
      setRoute: (cidr, via) => setRoute(opts.iface, cidr, via),
      removeRoute,
      applyRules: applyOwnChains,
      probe,
      now: () => Date.now(),
    },
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await controller.stop();
    await controller.cleanup();
    await removeOwnChains();
    for (const ip of addedZoneIps) await removeAddress(opts.iface, ip);
    log('stopped; addresses, routes and rules removed');
    process.exit(code);
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void stop(0));
  log(
    `nlb api ${process.pid}: ${kube.server}; zones ${opts.zones.map((z) => `${z.zone}=${z.ip}`).join(' ')}; ` +
      `pool ${opts.pool.prefix}${opts.pool.first}-${opts.pool.last}; ${opts.iface} ${link.mac}`,
  );
  await controller.start();
  log('ready');
}

main().catch((err: unknown) => {
  if (err instanceof NetlabError) {
    process.stderr.write(`${err.oneLine()}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
