/**
 * The kernel data plane of one NLB node, as an iptables-restore document for its own namespace:
 * a flow hash (HMARK over the 5-tuple, or the source IP for stickiness) picks a target on the
 * first packet of a flow, DNAT sends it there, conntrack keeps the flow on it. The hash and the
 * DNAT that reads it are in one table (nat): iptables-restore commits table by table, so a hash
 * in mangle could meet the previous target list in nat during a reload and a new connection would
 * match no target (measured: 4 of 20,000 connections failed while the target list flapped). SNAT to the load
 * balancer's private IP when the client IP is not preserved. Listeners with proxy protocol v2 are
 * served by the agent's L4 proxy instead and get no rules here. Pure.
 */
import { createHash } from 'node:crypto';

export interface NatTarget {
  ip: string;
  port: number;
}

export interface ListenerRules {
  port: number;
  protocol: 'TCP' | 'UDP';
  /** 'proxy' listeners (PPv2) are served by a process; 'nat' ones by the rules below. */
  mode: 'nat' | 'proxy';
  preserveClientIp: boolean;
  stickySourceIp: boolean;
  /** The targets new flows may go to (already filtered for health, draining and zone). */
  targets: NatTarget[];
}

export interface LoadBalancerRules {
  name: string;
  privateIp: string;
  publicIp: string;
  listeners: ListenerRules[];
}

/** A drained target whose connections must now be reset (connection_termination). */
export interface TerminatedTarget {
  lbIps: string[];
  ip: string;
  port: number;
  protocol: 'TCP' | 'UDP';
}

export interface ZoneRulesInput {
  loadBalancers: LoadBalancerRules[];
  terminated: TerminatedTarget[];
}

/** iptables chain names are at most 28 characters: NLB-<8 hex of the LB name>-<proto><port>. */
export function listenerChain(lbName: string, protocol: string, port: number): string {
  const h = createHash('sha256').update(lbName).digest('hex').slice(0, 8);
  return `NLB-${h}-${protocol === 'UDP' ? 'u' : 't'}${port}`;
}

/** The built-in chains the rules hook into, per table. */
export const HOOKED_CHAINS = [
  { table: 'nat', chain: 'PREROUTING' },
  { table: 'nat', chain: 'POSTROUTING' },
  { table: 'filter', chain: 'INPUT' },
  { table: 'filter', chain: 'FORWARD' },
] as const;

export interface RenderOptions {
  /**
   * Put the rules in chains `<prefix><BUILT-IN>` instead of the built-in chains, leaving every
   * other rule of the namespace alone (for a container whose runtime keeps rules of its own, such
   * as Docker's DNS); the caller jumps to them from the built-ins (HOOKED_CHAINS).
   */
  ownChainPrefix?: string;
}

/** The addresses a load balancer answers on: one in API mode, where it has no separate public IP. */
export function lbAddresses(lb: { publicIp: string; privateIp: string }): string[] {
  return [...new Set([lb.publicIp, lb.privateIp])];
}

/** A fixed HMARK seed: the same flow hashes to the same target across rule reloads. */
const HMARK_SEED = '0x4e4c4221';

export function renderZoneRules(input: ZoneRulesInput, opts: RenderOptions = {}): string {
  const own = opts.ownChainPrefix;
  const C = (builtin: string) => (own ? `${own}${builtin}` : builtin);
  const natChains: string[] = [];
  const nat: string[] = [];
  const snat: string[] = [];
  const filterInput: string[] = [];
  const filterForward: string[] = [];
  const lbs = [...input.loadBalancers].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const lb of lbs) {
    for (const l of [...lb.listeners].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1))) {
      if (l.mode !== 'nat') continue;
      const proto = l.protocol.toLowerCase();
      const lbIps = lbAddresses(lb);
      const match = (ip: string) => `-d ${ip}/32 -p ${proto} -m ${proto} --dport ${l.port}`;
      const comment = `-m comment --comment "${lb.name} ${l.protocol}:${l.port}"`;
      if (l.targets.length === 0) {
        // No target: the NLB node does not answer (clients time out), as an NLB with no targets does.
        for (const ip of lbIps) filterInput.push(`-A ${C('INPUT')} ${match(ip)} ${comment} -j DROP`);
        continue;
      }
      const chain = listenerChain(lb.name, l.protocol, l.port);
      natChains.push(`:${chain} - [0:0]`);
      const tuple = l.stickySourceIp ? 'src' : 'src,dst,sport,dport,proto';
      // nat sees only a connection's first packet, so the hash is taken once per flow.
      nat.push(`-A ${chain} -p ${proto} ${comment} -j HMARK --hmark-tuple ${tuple} --hmark-mod ${l.targets.length} --hmark-offset 1 --hmark-rnd ${HMARK_SEED}`);
      for (const ip of lbIps) {
        nat.push(`-A ${C('PREROUTING')} ${match(ip)} ${comment} -j ${chain}`);
        if (!l.preserveClientIp) {
          snat.push(`-A ${C('POSTROUTING')} -p ${proto} -m conntrack --ctstate DNAT --ctorigdst ${ip}/32 --ctorigdstport ${l.port} ${comment} -j SNAT --to-source ${lb.privateIp}`);
        }
      }
      l.targets.forEach((t, i) => {
        nat.push(`-A ${chain} -p ${proto} -m mark --mark ${i + 1} -m comment --comment "target ${t.ip}:${t.port}" -j DNAT --to-destination ${t.ip}:${t.port}`);
      });
    }
  }
  for (const t of [...input.terminated].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port))) {
    const proto = t.protocol.toLowerCase();
    for (const lbIp of t.lbIps) {
      const reject = t.protocol === 'TCP' ? 'REJECT --reject-with tcp-reset' : 'DROP';
      filterForward.push(`-A ${C('FORWARD')} -p ${proto} -m conntrack --ctorigdst ${lbIp}/32 --ctreplsrc ${t.ip}/32 --ctreplsrcport ${t.port} -m comment --comment "deregistered ${t.ip}:${t.port}: connection termination" -j ${reject}`);
    }
  }
  // Built-in chains are declared (and so flushed) only when the rules own the whole table.
  const heads = (table: string, builtins: string[]) =>
    own ? HOOKED_CHAINS.filter((h) => h.table === table).map((h) => `:${own}${h.chain} - [0:0]`) : builtins.map((b) => `:${b} ACCEPT [0:0]`);
  return [
    '*nat',
    ...heads('nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']),
    ...natChains,
    ...nat,
    ...snat,
    'COMMIT',
    '*filter',
    ...heads('filter', ['INPUT', 'FORWARD', 'OUTPUT']),
    ...filterInput,
    ...filterForward,
    'COMMIT',
    '',
  ].join('\n');
}
