/**
 * Thin executor of the NLB's topology plans (topology.ts): `ip -batch` per namespace, sysctls,
 * and the nodes' return-routing rules. Idempotent: running it again changes nothing.
 */
import { run } from '../../exec/exec.js';
import {
  RETURN_CHAIN,
  planLoadBalancerAddresses,
  planNodeReturnRouting,
  planZoneNode,
  type IpBatch,
  type LabNodeRoute,
  type ZoneNode,
} from './topology.js';

async function runIpBatch(batch: IpBatch, force = false): Promise<void> {
  if (batch.lines.length === 0) return;
  const args = [...(force ? ['-force'] : []), ...(batch.netns ? ['-n', batch.netns] : []), '-batch', '-'];
  await run('ip', args, { input: `${batch.lines.join('\n')}\n`, allowFailure: force });
}

async function namespaceExists(name: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.split('\n').some((l) => l.split(' ')[0] === name);
}

/** Create the zone's NLB node if it is not there yet. */
export async function ensureZoneNode(fabricNetns: string, zn: ZoneNode, nodes: readonly LabNodeRoute[]): Promise<void> {
  if (await namespaceExists(zn.netns)) return;
  for (const stage of planZoneNode(fabricNetns, zn, nodes)) await Promise.all(stage.map((b) => runIpBatch(b)));
  await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { netns: zn.netns });
}

export async function removeZoneNode(zn: ZoneNode): Promise<void> {
  if (await namespaceExists(zn.netns)) await run('ip', ['netns', 'del', zn.netns]);
}

/** Give a load balancer its addresses in a zone (or take them away); `-force` keeps going past "exists"/"not found". */
export async function setLoadBalancerAddresses(
  zn: ZoneNode,
  routerNetns: string,
  addresses: { privateIp: string; publicIp: string },
  verb: 'add' | 'del',
): Promise<void> {
  for (const batch of planLoadBalancerAddresses(zn, routerNetns, addresses, verb)) await runIpBatch(batch, true);
}

/** Install (or refresh) one lab node's return routing through the NLB nodes. */
export async function ensureNodeReturnRouting(nodeNetns: string, zns: readonly ZoneNode[]): Promise<void> {
  const plan = planNodeReturnRouting(zns);
  await run('iptables-restore', ['--noflush'], { netns: nodeNetns, input: plan.iptablesRestore });
  const jump = ['-t', 'mangle', 'PREROUTING', '-j', RETURN_CHAIN];
  const present = await run('iptables', ['-t', 'mangle', '-C', ...jump.slice(2)], { netns: nodeNetns, allowFailure: true });
  if (present.exitCode !== 0) await run('iptables', ['-t', 'mangle', '-I', ...jump.slice(2)], { netns: nodeNetns });
  // `ip rule add` is not idempotent: drop the rule of each preference first.
  for (const zn of zns) await run('ip', ['-n', nodeNetns, 'rule', 'del', 'pref', String(zn.table)], { allowFailure: true });
  await runIpBatch({ netns: nodeNetns, lines: plan.ip });
}
