/**
 * MetalLB in the lab (L2 mode, no speaker daemon): addresses from the pool into Service status,
 * one leader node per VIP answering ARP for it with proxy ARP on its eth0 plus a /32 route through
 * a different device (the kernel only proxies ARP for addresses routed elsewhere; kube-proxy's DNAT
 * in PREROUTING takes the traffic before that route matters), and gratuitous ARP from a new leader.
 */
import type { LabContext, LabController } from '../lab/context.js';
import { svcKey, isMetallbService } from '../model/services.js';
import { allocateVips } from './allocate.js';
import { electLeader } from './election.js';

function announceLines(vip: string): string[] {
  return [`neigh replace proxy ${vip} dev eth0`, `route replace ${vip}/32 dev lo`];
}

async function withdraw(ctx: LabContext, nodeName: string, vip: string): Promise<void> {
  const node = ctx.state.nodes.find((n) => n.name === nodeName);
  if (!node) return;
  await ctx.exec.run('ip', ['-n', node.netns, 'neigh', 'del', 'proxy', vip, 'dev', 'eth0'], { allowFailure: true });
  await ctx.exec.run('ip', ['-n', node.netns, 'route', 'del', `${vip}/32`, 'dev', 'lo'], { allowFailure: true });
}

async function announce(ctx: LabContext, nodeName: string, vip: string): Promise<void> {
  const node = ctx.state.nodes.find((n) => n.name === nodeName)!;
  await ctx.exec.run('ip', ['-n', node.netns, '-batch', '-'], { input: `${announceLines(vip).join('\n')}\n` });
  const r = await ctx.exec.run(process.execPath, [ctx.builtScript('cluster/metallb/garp.js'), '--dev', 'eth0', '--ip', vip, '--lab-dir', ctx.names.labDir(ctx.lab)], { netns: node.netns, allowFailure: true });
  ctx.log(`metallb: ${vip} announced from ${nodeName}; ${(r.stdout || r.stderr).trim()}`);
}

export const metallbController: LabController = {
  name: 'metallb',
  async reconcile(ctx) {
    const m = ctx.state.metallb;
    const vips = allocateVips(ctx.services(), { start: m.poolStart, end: m.poolEnd });
    const desired: Record<string, string> = {};
    for (const svc of ctx.services().filter(isMetallbService)) {
      const vip = vips[svcKey(svc)] ?? null;
      const ns = svc.metadata?.namespace ?? 'default';
      const name = svc.metadata?.name ?? '';
      ctx.setServiceStatus(ns, name, { ...(svc.status ?? {}), loadBalancer: vip ? { ingress: [{ ip: vip, ipMode: 'VIP' }] } : {} });
      if (!vip) continue;
      const ep = ctx.endpoints().find((e) => e.metadata?.namespace === ns && e.metadata?.name === name);
      const leader = electLeader(vip, svc, ctx.nodes(), ep);
      if (leader) desired[vip] = leader;
    }
    for (const [vip, node] of Object.entries(m.leaders)) if (desired[vip] !== node) await withdraw(ctx, node, vip);
    for (const [vip, node] of Object.entries(desired)) if (m.leaders[vip] !== node) await announce(ctx, node, vip);
    m.leaders = desired;
  },
};
