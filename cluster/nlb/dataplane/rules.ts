/**
 * The kernel data plane of one NLB node, as an iptables-restore document for its own namespace:
 * a flow hash (HMARK over the 5-tuple, or the source IP for stickiness) picks a target on the
 * first packet of a flow, DNAT sends it there, conntrack keeps the flow on it. SNAT to the load
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

/** A fixed HMARK seed: the same flow hashes to the same target across rule reloads. */
const HMARK_SEED = '0x4e4c4221';

export function renderZoneRules(input: ZoneRulesInput): string {
  const mangle: string[] = [];
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
      const match = (ip: string) => `-d ${ip}/32 -p ${proto} -m ${proto} --dport ${l.port}`;
      const comment = `-m comment --comment "${lb.name} ${l.protocol}:${l.port}"`;
      if (l.targets.length === 0) {
        // No target: the NLB node does not answer (clients time out), as an NLB with no targets does.
        for (const ip of [lb.publicIp, lb.privateIp]) filterInput.push(`-A INPUT ${match(ip)} ${comment} -j DROP`);
        continue;
      }
      const chain = listenerChain(lb.name, l.protocol, l.port);
      natChains.push(`:${chain} - [0:0]`);
      const tuple = l.stickySourceIp ? 'src' : 'src,dst,sport,dport,proto';
      for (const ip of [lb.publicIp, lb.privateIp]) {
        mangle.push(`-A PREROUTING ${match(ip)} -m conntrack --ctstate NEW ${comment} -j HMARK --hmark-tuple ${tuple} --hmark-mod ${l.targets.length} --hmark-offset 1 --hmark-rnd ${HMARK_SEED}`);
        nat.push(`-A PREROUTING ${match(ip)} ${comment} -j ${chain}`);
        if (!l.preserveClientIp) {
          snat.push(`-A POSTROUTING -p ${proto} -m conntrack --ctstate DNAT --ctorigdst ${ip}/32 --ctorigdstport ${l.port} ${comment} -j SNAT --to-source ${lb.privateIp}`);
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
      filterForward.push(`-A FORWARD -p ${proto} -m conntrack --ctorigdst ${lbIp}/32 --ctreplsrc ${t.ip}/32 --ctreplsrcport ${t.port} -m comment --comment "deregistered ${t.ip}:${t.port}: connection termination" -j ${reject}`);
    }
  }
  return [
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...mangle,
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...natChains,
    ...nat,
    ...snat,
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ...filterInput,
    ...filterForward,
    'COMMIT',
    '',
  ].join('\n');
}
