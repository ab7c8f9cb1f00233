/**
 * Where the NLB's nodes sit in the lab, as pure data: one namespace per zone joined to the fabric
 * bridge, each load balancer's private and public address in every zone, the router's routes to
 * the public addresses, and the return routing the lab's nodes need so that replies to a preserved
 * client IP go back through the NLB node that sent the request (as they do in a VPC, where the
 * NLB is the path back).
 */

import { ROUTER_NODE_IP, type IpBatch } from '../../netns/plan.js';

export type { IpBatch };

export const NLB_PRIVATE_PREFIX = '172.18.1.';
export const NLB_PUBLIC_PREFIX = '203.0.113.';
/** Per-load-balancer addresses come from .10-.250 of both /24s; .2-.9 of the private one are the zone nodes' own. */
export const POOL_FIRST = 10;
export const POOL_LAST = 250;
export const NODE_NETWORK_PREFIX_LEN = 16;
export const FABRIC_BRIDGE = 'br0';
/** Connection marks of the return routing live in these bits, clear of kube-proxy's 0x4000/0x8000. */
export const RETURN_MARK_MASK = 0xff0000;
export const RETURN_TABLE_BASE = 4200;
export const RETURN_CHAIN = 'NETLAB-NLB-RETURN';

export interface ZoneNode {
  /** The zone as nodes are labelled, e.g. `lab-1a`. */
  zone: string;
  /** The zone's letter(s) after the region, e.g. `a`: names the namespace and the fabric port. */
  short: string;
  index: number;
  netns: string;
  /** This NLB node's port on the fabric bridge. */
  fabricPort: string;
  /** Fixed so that nodes' return routing can match it before the namespace exists. */
  mac: string;
  /** The node's own address on the node network (health checks of no load balancer use it). */
  ip: string;
  /** Connection mark and routing table of the nodes' return routing through this NLB node. */
  mark: number;
  table: number;
}

export function zoneShort(zone: string, region: string): string {
  const rest = zone.startsWith(region) ? zone.slice(region.length) : zone;
  return rest.replace(/[^a-z0-9]/g, '') || 'zone';
}

export function zoneNodes(lab: string, region: string, zones: readonly string[]): ZoneNode[] {
  return [...zones].sort().map((zone, index) => {
    const short = zoneShort(zone, region);
    return {
      zone,
      short,
      index,
      netns: `${lab}-nlb-${short}`,
      fabricPort: `nlb-${short}`.slice(0, 15),
      mac: `02:4e:4c:42:00:${(index + 1).toString(16).padStart(2, '0')}`,
      ip: `${NLB_PRIVATE_PREFIX}${index + 2}`,
      mark: (index + 1) << 16,
      table: RETURN_TABLE_BASE + index + 1,
    };
  });
}

/** Load balancer name → zone → its addresses there. */
export type AddressBook = Record<string, Record<string, { privateIp: string; publicIp: string }>>;

/** Where load balancer addresses come from: `<prefix><first>`..`<prefix><last>` of each /24. */
export interface AddressPools {
  privatePrefix: string;
  publicPrefix: string;
  first: number;
  last: number;
}

const LAB_POOLS: AddressPools = { privatePrefix: NLB_PRIVATE_PREFIX, publicPrefix: NLB_PUBLIC_PREFIX, first: POOL_FIRST, last: POOL_LAST };

/**
 * Keep every address a load balancer already has, free those of load balancers that are gone, and
 * give new (load balancer, zone) pairs the lowest free address of each pool.
 */
export function allocateAddresses(previous: AddressBook, wanted: ReadonlyArray<{ name: string; zones: readonly string[] }>, pools: AddressPools = LAB_POOLS): AddressBook {
  const book: AddressBook = {};
  const usedPrivate = new Set<number>();
  const usedPublic = new Set<number>();
  const lastOctet = (ip: string) => Number(ip.split('.')[3]);
  for (const lb of wanted) {
    for (const zone of lb.zones) {
      const had = previous[lb.name]?.[zone];
      if (!had) continue;
      (book[lb.name] ??= {})[zone] = had;
      usedPrivate.add(lastOctet(had.privateIp));
      usedPublic.add(lastOctet(had.publicIp));
    }
  }
  const take = (used: Set<number>): number => {
    for (let i = pools.first; i <= pools.last; i++) {
      if (!used.has(i)) {
        used.add(i);
        return i;
      }
    }
    throw new RangeError(`no free NLB address left in .${pools.first}-.${pools.last}`);
  };
  for (const lb of [...wanted].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const zone of [...lb.zones].sort()) {
      if (book[lb.name]?.[zone]) continue;
      (book[lb.name] ??= {})[zone] = {
        privateIp: `${pools.privatePrefix}${take(usedPrivate)}`,
        publicIp: `${pools.publicPrefix}${take(usedPublic)}`,
      };
    }
  }
  return book;
}

export interface LabNodeRoute {
  /** The lab node's name, e.g. `worker`. */
  name: string;
  ip: string;
  podCIDR: string;
}

/** The `ip` commands that create one zone's NLB node: namespace, veth to the fabric, addresses, routes. */
export function planZoneNode(fabricNetns: string, zn: ZoneNode, nodes: readonly LabNodeRoute[]): IpBatch[][] {
  return [
    [{ netns: null, lines: [`netns add ${zn.netns}`] }],
    [{ netns: fabricNetns, lines: [`link add ${zn.fabricPort} type veth peer name eth0 netns ${zn.netns}`] }],
    [
      { netns: fabricNetns, lines: [`link set ${zn.fabricPort} master ${FABRIC_BRIDGE}`, `link set ${zn.fabricPort} up`] },
      {
        netns: zn.netns,
        lines: [
          'link set lo up',
          `link set eth0 address ${zn.mac}`,
          `addr add ${zn.ip}/${NODE_NETWORK_PREFIX_LEN} dev eth0`,
          'link set eth0 up',
          `route add default via ${ROUTER_NODE_IP}`,
          // Pod IPs are VPC addresses for ip targets: reach each node's pod CIDR through that node.
          ...nodes.map((n) => `route add ${n.podCIDR} via ${n.ip} dev eth0`),
        ],
      },
    ],
  ];
}

/** `ip` lines that give one load balancer its addresses in a zone node, and the router's route to the public one. */
export function planLoadBalancerAddresses(
  zn: ZoneNode,
  routerNetns: string,
  addresses: { privateIp: string; publicIp: string },
  verb: 'add' | 'del',
): IpBatch[] {
  const routeVerb = verb === 'add' ? 'replace' : 'del';
  return [
    { netns: zn.netns, lines: [`addr ${verb} ${addresses.privateIp}/32 dev eth0`, `addr ${verb} ${addresses.publicIp}/32 dev eth0`] },
    { netns: routerNetns, lines: [`route ${routeVerb} ${addresses.publicIp}/32 via ${addresses.privateIp}`] },
  ];
}

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * Return routing on one lab node: connections that arrive from an NLB node's MAC get that node's
 * mark; replies restore it and an `ip rule` sends them to a table whose default route is that NLB
 * node. Only replies are marked, so requests still reach their pods through the main table.
 */
export function planNodeReturnRouting(zns: readonly ZoneNode[]): { iptablesRestore: string; ip: string[] } {
  const mangle = [
    '*mangle',
    `:${RETURN_CHAIN} - [0:0]`,
    ...zns.map((zn) => `-A ${RETURN_CHAIN} -i eth0 -m conntrack --ctstate NEW -m mac --mac-source ${zn.mac} -m comment --comment "from NLB node ${zn.zone}" -j CONNMARK --set-xmark ${hex(zn.mark)}/${hex(RETURN_MARK_MASK)}`),
    `-A ${RETURN_CHAIN} -m conntrack --ctdir REPLY -m connmark ! --mark 0x0/${hex(RETURN_MARK_MASK)} -j CONNMARK --restore-mark --nfmask ${hex(RETURN_MARK_MASK)} --ctmask ${hex(RETURN_MARK_MASK)}`,
    'COMMIT',
  ];
  const ip = zns.flatMap((zn) => [
    `rule add fwmark ${hex(zn.mark)}/${hex(RETURN_MARK_MASK)} lookup ${zn.table} pref ${zn.table}`,
    `route replace default via ${zn.ip} dev eth0 table ${zn.table}`,
  ]);
  return { iptablesRestore: `${mangle.join('\n')}\n`, ip };
}
