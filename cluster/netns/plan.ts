/**
 * The netns lab's topology as pure data (docs/lab-topology.md): which namespaces exist, which `ip`
 * lines run in each, which sysctls are set, which files are written. `apply.ts` only executes it,
 * so the whole layout is snapshot-tested without root.
 */
import { createHash } from 'node:crypto';
import type { NodePlacement } from '../lab/state.js';
import {
  clientHostsDir,
  nsClient,
  nsFabric,
  nsNode,
  nsPod,
  nsRouter,
  podVethName,
} from '../lab/names.js';

export const NODE_NETWORK = '172.18.0.0/16';
export const ROUTER_NODE_IP = '172.18.0.1';
export const CLIENT_NETWORK = '198.51.100.0/24';
export const ROUTER_CLIENT_IP = '198.51.100.1';
export const CLIENT_IP = '198.51.100.10';
export const POD_NETWORK = '10.244.0.0/16';
export const SERVICE_NETWORK = '10.96.0.0/16';
export const REGION = 'lab-1';

export interface PlannedNode extends NodePlacement {
  labels: Record<string, string>;
  taints: { key: string; effect: string }[];
}

/** Commands for one namespace: `ip -n NETNS -batch -` (netns null = `ip -batch -` in the root namespace, only for `netns add`). */
export interface IpBatch {
  netns: string | null;
  lines: string[];
}

export interface TopologyPlan {
  lab: string;
  /** In creation order; `down` deletes them in reverse. */
  namespaces: string[];
  nodes: PlannedNode[];
  router: { netns: string; nodeSideIp: string; clientSideIp: string };
  client: { netns: string; ip: string };
  /** Stage 1 creates namespaces; stage 2 creates links (they need both ends' namespaces); stage 3 configures each namespace. */
  stages: IpBatch[][];
  sysctls: { netns: string; settings: string[] }[];
  files: { path: string; content: string }[];
  dirs: string[];
}

export interface TopologyOptions {
  lab: string;
  nodes: number;
  zones: string[];
}

export function nodeName(index: number): string {
  if (index === 0) return 'control-plane';
  return index === 1 ? 'worker' : `worker${index}`;
}

function planNodes(opts: TopologyOptions): PlannedNode[] {
  const nodes: PlannedNode[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const name = nodeName(i);
    const role = i === 0 ? 'control-plane' : 'worker';
    const zone = role === 'worker' && opts.zones.length > 0 ? `${REGION}${opts.zones[(i - 1) % opts.zones.length]}` : null;
    const labels: Record<string, string> = {
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
    };
    const taints: { key: string; effect: string }[] = [];
    if (role === 'control-plane') {
      labels['node-role.kubernetes.io/control-plane'] = '';
      // A one-node lab schedules pods on the control plane, as a one-node kind cluster does.
      if (opts.nodes > 1) {
        labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
        taints.push({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
      }
    }
    if (zone) {
      labels['topology.kubernetes.io/region'] = REGION;
      labels['topology.kubernetes.io/zone'] = zone;
    }
    nodes.push({
      name,
      index: i,
      role,
      netns: nsNode(opts.lab, name),
      ip: `172.18.0.${i + 2}`,
      podCIDR: `10.244.${i}.0/24`,
      podGateway: `10.244.${i}.1`,
      zone,
      labels,
      taints,
    });
  }
  return nodes;
}

/** Name of a node's (or the router's) port on the fabric bridge; interface names stay under 16 bytes. */
export const fabricPort = (node: PlannedNode | 'router'): string => (node === 'router' ? 'router' : `node${node.index}`);

export function planTopology(opts: TopologyOptions): TopologyPlan {
  const { lab } = opts;
  const nodes = planNodes(opts);
  const fabric = nsFabric(lab);
  const router = nsRouter(lab);
  const client = nsClient(lab);
  const namespaces = [fabric, router, client, ...nodes.map((n) => n.netns)];

  const create: IpBatch = { netns: null, lines: namespaces.map((ns) => `netns add ${ns}`) };

  // Links are created from the fabric and the router, moving the peer end straight into its namespace.
  const fabricLinks: IpBatch = {
    netns: fabric,
    lines: [
      'link add br0 type bridge',
      `link add ${fabricPort('router')} type veth peer name eth0 netns ${router}`,
      ...nodes.map((n) => `link add ${fabricPort(n)} type veth peer name eth0 netns ${n.netns}`),
    ],
  };
  const routerLinks: IpBatch = { netns: router, lines: [`link add eth1 type veth peer name eth0 netns ${client}`] };

  const configure: IpBatch[] = [
    {
      netns: fabric,
      lines: [
        'link set lo up',
        'link set br0 up',
        ...[fabricPort('router'), ...nodes.map(fabricPort)].flatMap((p) => [`link set ${p} master br0`, `link set ${p} up`]),
      ],
    },
    {
      netns: router,
      lines: [
        'link set lo up',
        `addr add ${ROUTER_NODE_IP}/16 dev eth0`,
        `addr add ${ROUTER_CLIENT_IP}/24 dev eth1`,
        'link set eth0 up',
        'link set eth1 up',
      ],
    },
    {
      netns: client,
      lines: ['link set lo up', `addr add ${CLIENT_IP}/24 dev eth0`, 'link set eth0 up', `route add default via ${ROUTER_CLIENT_IP}`],
    },
    ...nodes.map((n) => ({
      netns: n.netns,
      lines: [
        'link set lo up',
        `addr add ${n.ip}/16 dev eth0`,
        'link set eth0 up',
        `route add default via ${ROUTER_NODE_IP}`,
        // kindnetd's routes: every other node's pod CIDR via that node.
        ...nodes.filter((o) => o !== n).map((o) => `route add ${o.podCIDR} via ${o.ip} dev eth0`),
      ],
    })),
  ];

  const forwarding = ['net.ipv4.ip_forward=1'];
  const sysctls = [
    { netns: router, settings: forwarding },
    // route_localnet: kube-proxy's localhostNodePorts default, so `curl 127.0.0.1:NODEPORT` works on a node.
    ...nodes.map((n) => ({ netns: n.netns, settings: [...forwarding, 'net.ipv4.conf.all.route_localnet=1'] })),
  ];

  const hostsLines = ['127.0.0.1 localhost', `${CLIENT_IP} client`, `${ROUTER_CLIENT_IP} router`, ...nodes.map((n) => `${n.ip} ${n.name}`)];
  const hostsDir = clientHostsDir(lab);
  return {
    lab,
    namespaces,
    nodes,
    router: { netns: router, nodeSideIp: ROUTER_NODE_IP, clientSideIp: ROUTER_CLIENT_IP },
    client: { netns: client, ip: CLIENT_IP },
    stages: [[create], [fabricLinks, routerLinks], configure],
    sysctls,
    files: [{ path: `${hostsDir}/hosts`, content: `${hostsLines.join('\n')}\n` }],
    dirs: [hostsDir],
  };
}

export interface PodNetworkPlan {
  netns: string;
  veth: string;
  stages: IpBatch[][];
}

/** One pod's namespace and veth, as kindnet's ptp CNI wires it: /32 gateway on the node side, host route to the pod. */
export function planPodNetwork(lab: string, node: Pick<PlannedNode, 'netns' | 'podGateway' | 'podCIDR'>, namespace: string, pod: string, ip: string): PodNetworkPlan {
  const netns = nsPod(lab, namespace, pod);
  const veth = podVethName(namespace, pod);
  return {
    netns,
    veth,
    stages: [
      [{ netns: null, lines: [`netns add ${netns}`] }],
      [{ netns: node.netns, lines: [`link add ${veth} type veth peer name eth0 netns ${netns}`] }],
      [
        {
          netns: node.netns,
          lines: [`addr add ${node.podGateway}/32 dev ${veth}`, `link set ${veth} up`, `route add ${ip}/32 dev ${veth} scope host`],
        },
        {
          netns,
          lines: [
            'link set lo up',
            `addr add ${ip}/24 dev eth0`,
            'link set eth0 up',
            `route add ${node.podGateway}/32 dev eth0 scope link`,
            `route replace ${node.podCIDR} via ${node.podGateway} dev eth0 src ${ip}`,
            `route add default via ${node.podGateway} dev eth0`,
          ],
        },
      ],
    ],
  };
}

/** A stable 32-bit number from a string, for deterministic address and port choices. */
export function stableHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}
