/**
 * kube-proxy's iptables mode as a pure function: (node, Services, Endpoints) → the iptables-restore
 * text for that node's filter and nat tables, in the order kube-proxy's syncProxyRules writes
 * them (top-level chains, KUBE-POSTROUTING's mark dance, KUBE-MARK-MASQ, then per service port:
 * KUBE-SERVICES / KUBE-NODEPORTS captures, KUBE-EXT, KUBE-FW, KUBE-SVC / KUBE-SVL with the
 * `statistic` ladder, KUBE-SEP; the filter table's REJECT / DROP for missing endpoints).
 *
 * The lab programs whole tables (the node namespaces hold nothing else), so the text also carries
 * the built-in chains' jump rules kube-proxy and the kubelet ensure with `iptables -I`, and
 * kindnet's KIND-MASQ-AGENT, in the order `iptables-save` shows them on a kind node.
 */
import type { Endpoints, Service } from '../lab/state.js';
import { POD_NETWORK } from '../netns/plan.js';
import { extChain, fwChain, sepChain, servicePortName, svcChain, svlChain } from './hash.js';

export const MASQ_MARK = '0x4000';

export interface KubeProxyNode {
  name: string;
  ip: string;
}

export interface KubeProxyInput {
  node: KubeProxyNode;
  services: Service[];
  endpoints: Endpoints[];
  /** kind's kube-proxy detects local traffic by the cluster CIDR. */
  clusterCIDR?: string;
}

interface Endpoint {
  /** ip:port, as kube-proxy spells it. */
  endpoint: string;
  ip: string;
  local: boolean;
}

interface ServicePortInfo {
  spn: string;
  protocol: string;
  clusterIP: string;
  port: number;
  nodePort: number;
  healthCheckNodePort: number;
  lbIPs: string[];
  sourceRanges: string[];
  externalIPs: string[];
  externalLocal: boolean;
  internalLocal: boolean;
  affinityClientIP: boolean;
  stickySeconds: number;
  endpoints: Endpoint[];
}

const q = (s: string): string => `"${s}"`;

/** kube-proxy's 1/n probabilities, printed with 10 decimals. */
export const probability = (n: number): string => (1 / n).toFixed(10);

function servicePorts(input: KubeProxyInput): ServicePortInfo[] {
  const out: ServicePortInfo[] = [];
  for (const svc of input.services) {
    const spec = svc.spec;
    if (!spec?.clusterIP || spec.clusterIP === 'None') continue;
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const ep = input.endpoints.find((e) => e.metadata?.namespace === ns && e.metadata?.name === name);
    for (const port of spec.ports ?? []) {
      const protocol = (port.protocol ?? 'TCP').toLowerCase();
      const endpoints: Endpoint[] = [];
      for (const subset of ep?.subsets ?? []) {
        const epPort = subset.ports?.find((p) => (p.name ?? '') === (port.name ?? ''));
        if (!epPort) continue;
        for (const a of subset.addresses ?? []) {
          endpoints.push({ endpoint: `${a.ip}:${epPort.port}`, ip: a.ip, local: a.nodeName === input.node.name });
        }
      }
      endpoints.sort((a, b) => a.endpoint.localeCompare(b.endpoint, 'en', { numeric: true }));
      const externalAccess = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
      out.push({
        spn: servicePortName(ns, name, port.name),
        protocol,
        clusterIP: spec.clusterIP,
        port: port.port,
        nodePort: externalAccess ? (port.nodePort ?? 0) : 0,
        healthCheckNodePort: spec.healthCheckNodePort ?? 0,
        lbIPs: spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip) : [],
        sourceRanges: spec.loadBalancerSourceRanges ?? [],
        externalIPs: spec.externalIPs ?? [],
        externalLocal: externalAccess && spec.externalTrafficPolicy === 'Local',
        internalLocal: spec.internalTrafficPolicy === 'Local',
        affinityClientIP: spec.sessionAffinity === 'ClientIP',
        stickySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800,
        endpoints,
      });
    }
  }
  // kube-proxy walks a Go map (random order); a stable order keeps the output diffable.
  return out.sort((a, b) => (a.spn + a.protocol).localeCompare(b.spn + b.protocol));
}

export interface RenderedRules {
  /** Input for `iptables-restore` (whole filter and nat tables). */
  text: string;
  /** Per Service "namespace/name": local ready endpoints, for the healthCheckNodePort server. */
  localEndpoints: Record<string, number>;
}

export function renderNodeRules(input: KubeProxyInput): RenderedRules {
  const clusterCIDR = input.clusterCIDR ?? POD_NETWORK;
  const ifLocal = `-s ${clusterCIDR}`;
  const ifNotLocal = `! -s ${clusterCIDR}`;
  const filterChains = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL'];
  const filterRules: string[] = [];
  const natChains = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];
  const natRules: string[] = [];
  const localEndpoints: Record<string, number> = {};

  natRules.push(
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    `-A KUBE-POSTROUTING -m comment --comment ${q('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
  );
  filterRules.push(
    `-A KUBE-FIREWALL -m comment --comment ${q('block incoming localnet connections')} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
  );

  for (const s of servicePorts(input)) {
    const p = s.protocol;
    const svcKey = s.spn.split(':')[0]!;
    const local = s.endpoints.filter((e) => e.local);
    if (s.externalLocal) localEndpoints[svcKey] = (localEndpoints[svcKey] ?? 0) + local.length;
    const hasEndpoints = s.endpoints.length > 0;
    const externallyAccessible = s.nodePort !== 0 || s.lbIPs.length > 0 || s.externalIPs.length > 0;
    const usesClusterEndpoints = !s.internalLocal || (externallyAccessible && !s.externalLocal);
    const usesLocalEndpoints = s.internalLocal || (s.externalLocal && externallyAccessible);
    const clusterChain = svcChain(s.spn, p);
    const localChain = svlChain(s.spn, p);
    const usesClusterChain = s.endpoints.length > 0 && usesClusterEndpoints;
    const usesLocalChain = local.length > 0 && usesLocalEndpoints;
    const internalChain = s.internalLocal ? localChain : clusterChain;
    const hasInternal = hasEndpoints && (!s.internalLocal || local.length > 0);
    const externalPolicyChain = s.externalLocal ? localChain : clusterChain;
    const hasExternal = hasEndpoints && (!s.externalLocal || local.length > 0);
    const externalChain = extChain(s.spn, p);
    const usesExternalChain = hasEndpoints && externallyAccessible;
    const firewall = fwChain(s.spn, p);
    const usesFw = hasEndpoints && s.lbIPs.length > 0 && s.sourceRanges.length > 0;
    const lbChain = usesFw ? firewall : externalChain;
    const reachable = usesClusterChain ? s.endpoints : usesLocalChain ? local : [];

    let internalFilter = '';
    let externalFilter = '';
    if (!hasEndpoints) {
      internalFilter = `-m comment --comment ${q(`${s.spn} has no endpoints`)}`;
      externalFilter = internalFilter;
    }
    const internalTarget = hasEndpoints ? 'DROP' : 'REJECT';
    const externalTarget = internalTarget;
    if (hasEndpoints && !hasInternal) internalFilter = `-m comment --comment ${q(`${s.spn} has no local endpoints`)}`;
    if (hasEndpoints && !hasExternal) externalFilter = `-m comment --comment ${q(`${s.spn} has no local endpoints`)}`;
    const match = `-m ${p} -p ${p}`;

    if (hasInternal) natRules.push(`-A KUBE-SERVICES -m comment --comment ${q(`${s.spn} cluster IP`)} ${match} -d ${s.clusterIP} --dport ${s.port} -j ${internalChain}`);
    else filterRules.push(`-A KUBE-SERVICES ${internalFilter} ${match} -d ${s.clusterIP} --dport ${s.port} -j ${internalTarget}`);

    for (const ip of s.externalIPs) {
      if (hasEndpoints) natRules.push(`-A KUBE-SERVICES -m comment --comment ${q(`${s.spn} external IP`)} ${match} -d ${ip} --dport ${s.port} -j ${externalChain}`);
      if (!hasExternal) filterRules.push(`-A KUBE-EXTERNAL-SERVICES ${externalFilter} ${match} -d ${ip} --dport ${s.port} -j ${externalTarget}`);
    }
    for (const ip of s.lbIPs) {
      if (hasEndpoints) natRules.push(`-A KUBE-SERVICES -m comment --comment ${q(`${s.spn} loadbalancer IP`)} ${match} -d ${ip} --dport ${s.port} -j ${lbChain}`);
      if (usesFw) filterRules.push(`-A KUBE-PROXY-FIREWALL -m comment --comment ${q(`${s.spn} traffic not accepted by ${firewall}`)} ${match} -d ${ip} --dport ${s.port} -j DROP`);
    }
    if (!hasExternal) for (const ip of s.lbIPs) filterRules.push(`-A KUBE-EXTERNAL-SERVICES ${externalFilter} ${match} -d ${ip} --dport ${s.port} -j ${externalTarget}`);

    if (s.nodePort) {
      if (hasEndpoints) natRules.push(`-A KUBE-NODEPORTS -m comment --comment ${s.spn} ${match} --dport ${s.nodePort} -j ${externalChain}`);
      if (!hasExternal) filterRules.push(`-A KUBE-EXTERNAL-SERVICES ${externalFilter} -m addrtype --dst-type LOCAL ${match} --dport ${s.nodePort} -j ${externalTarget}`);
    }
    if (s.healthCheckNodePort) {
      filterRules.push(`-A KUBE-NODEPORTS -m comment --comment ${q(`${s.spn} health check node port`)} -m tcp -p tcp --dport ${s.healthCheckNodePort} -j ACCEPT`);
    }

    if (hasInternal) {
      natRules.push(`-A ${internalChain} -m comment --comment ${q(`${s.spn} cluster IP`)} ${match} -d ${s.clusterIP} --dport ${s.port} ${ifNotLocal} -j KUBE-MARK-MASQ`);
    }
    if (usesExternalChain) {
      natChains.push(externalChain);
      if (!s.externalLocal) {
        natRules.push(`-A ${externalChain} -m comment --comment ${q(`masquerade traffic for ${s.spn} external destinations`)} -j KUBE-MARK-MASQ`);
      } else {
        natRules.push(
          `-A ${externalChain} -m comment --comment ${q(`pod traffic for ${s.spn} external destinations`)} ${ifLocal} -j ${clusterChain}`,
          `-A ${externalChain} -m comment --comment ${q(`masquerade LOCAL traffic for ${s.spn} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
          `-A ${externalChain} -m comment --comment ${q(`route LOCAL traffic for ${s.spn} external destinations`)} -m addrtype --src-type LOCAL -j ${clusterChain}`,
        );
      }
      if (hasExternal) natRules.push(`-A ${externalChain} -j ${externalPolicyChain}`);
    }
    if (usesFw) {
      natChains.push(firewall);
      const head = `-A ${firewall} -m comment --comment ${q(`${s.spn} loadbalancer IP`)}`;
      for (const src of s.sourceRanges) natRules.push(`${head} -s ${src} -j ${externalChain}`);
      natRules.push(`-A ${firewall} -m comment --comment ${q(`other traffic to ${s.spn} will be dropped by KUBE-PROXY-FIREWALL`)}`);
    }
    const writeBalancing = (chain: string, eps: Endpoint[]) => {
      if (s.affinityClientIP) {
        for (const e of eps) {
          natRules.push(`-A ${chain} -m comment --comment ${q(`${s.spn} -> ${e.endpoint}`)} -m recent --name ${sepChain(s.spn, p, e.endpoint)} --rcheck --seconds ${s.stickySeconds} --reap -j ${sepChain(s.spn, p, e.endpoint)}`);
        }
      }
      eps.forEach((e, i) => {
        const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
        natRules.push(`-A ${chain} -m comment --comment ${q(`${s.spn} -> ${e.endpoint}`)}${stat} -j ${sepChain(s.spn, p, e.endpoint)}`);
      });
    };
    if (usesClusterChain) {
      natChains.push(clusterChain);
      writeBalancing(clusterChain, s.endpoints);
    }
    if (usesLocalChain) {
      natChains.push(localChain);
      writeBalancing(localChain, local);
    }
    for (const e of reachable) {
      const chain = sepChain(s.spn, p, e.endpoint);
      natChains.push(chain);
      natRules.push(`-A ${chain} -m comment --comment ${s.spn} -s ${e.ip} -j KUBE-MARK-MASQ`);
      const affinity = s.affinityClientIP ? ` -m recent --name ${chain} --set` : '';
      natRules.push(`-A ${chain} -m comment --comment ${s.spn}${affinity} ${match} -j DNAT --to-destination ${e.endpoint}`);
    }
  }

  natRules.push(`-A KUBE-SERVICES -m comment --comment ${q('kubernetes service nodeports; NOTE: this must be the last rule in this chain')} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`);
  filterRules.push(
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    `-A KUBE-FORWARD -m comment --comment ${q('kubernetes forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    `-A KUBE-FORWARD -m comment --comment ${q('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );

  // Jumps from the built-in chains, as `iptables-save` lists them on a kind node (each was prepended).
  const newConn = '-m conntrack --ctstate NEW';
  const filterJumps = [
    `-A INPUT ${newConn} -m comment --comment ${q('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL`,
    `-A INPUT -m comment --comment ${q('kubernetes health check service ports')} -j KUBE-NODEPORTS`,
    `-A INPUT ${newConn} -m comment --comment ${q('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES`,
    '-A INPUT -j KUBE-FIREWALL',
    `-A FORWARD ${newConn} -m comment --comment ${q('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL`,
    `-A FORWARD -m comment --comment ${q('kubernetes forwarding rules')} -j KUBE-FORWARD`,
    `-A FORWARD ${newConn} -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES`,
    `-A FORWARD ${newConn} -m comment --comment ${q('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES`,
    `-A OUTPUT ${newConn} -m comment --comment ${q('kubernetes load balancer firewall')} -j KUBE-PROXY-FIREWALL`,
    `-A OUTPUT ${newConn} -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES`,
    '-A OUTPUT -j KUBE-FIREWALL',
  ];
  const natJumps = [
    `-A PREROUTING -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES`,
    `-A OUTPUT -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES`,
    `-A POSTROUTING -m comment --comment ${q('kubernetes postrouting rules')} -j KUBE-POSTROUTING`,
    // kindnet's masquerade agent: pod traffic leaving the pod network is SNATed to the node.
    `-A POSTROUTING -m addrtype ! --dst-type LOCAL -m comment --comment ${q('kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain')} -j KIND-MASQ-AGENT`,
    `-A KIND-MASQ-AGENT -d ${clusterCIDR} -m comment --comment ${q('kind-masq-agent: local traffic is not subject to MASQUERADE')} -j RETURN`,
    `-A KIND-MASQ-AGENT -m comment --comment ${q('kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)')} -j MASQUERADE`,
  ];

  const builtin = (names: string[]) => names.map((c) => `:${c} ACCEPT [0:0]`);
  const chainLines = (names: string[]) => names.map((c) => `:${c} - [0:0]`);
  const text = [
    '*filter',
    ...builtin(['INPUT', 'FORWARD', 'OUTPUT']),
    ...chainLines(filterChains),
    ...filterJumps,
    ...filterRules,
    'COMMIT',
    '*nat',
    ...builtin(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']),
    ...chainLines([...natChains, 'KIND-MASQ-AGENT']),
    ...natJumps,
    ...natRules,
    'COMMIT',
    '',
  ].join('\n');
  return { text, localEndpoints };
}
