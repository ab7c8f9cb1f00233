/**
 * The two containers netlab adds next to kind's nodes on the `kind` docker network, as pure
 * plans (snapshot-tested), plus the routes that make the external client's address work:
 *
 * - `<lab>-nlb`: the NLB emulator (cluster/nlb/api/main.js from netlab's image) with NET_ADMIN
 *   for its iptables data plane, one zone-node address per zone and its load balancers'
 *   addresses (--pool) on eth0; it watches the cluster through `kind get kubeconfig --internal`
 *   (the API server by its container name) and runs NLB timers --time-scale times faster.
 * - `<lab>-client`: the external client. It keeps its docker address for MetalLB VIPs and adds
 *   198.51.100.10/32 (the netns lab's client address, outside every cluster range) as the source
 *   of its traffic to the NLB addresses (one /27), so "does the pod see the client IP" reads the same as in
 *   the netns lab. Replies find their way back by routes: nodes send 198.51.100.0/24 through the
 *   emulator (which undoes its NAT, as an NLB does), the emulator sends it to the client.
 */
import type { ContainerPlan } from '../docker/client.js';
import { CLIENT_PUBLIC_IP, CLIENT_PUBLIC_NET, type KindAddressPlan } from './network.js';
import type { NetlabImage } from './workloads.js';

export const KIND_NETWORK = 'kind';
export const LAB_LABEL = 'netlab.lab';
/** Where the emulator finds the kubeconfig inside its container. */
export const EMULATOR_KUBECONFIG = '/etc/netlab/kubeconfig';

export const emulatorName = (lab: string): string => `${lab}-nlb`;
export const clientName = (lab: string): string => `${lab}-client`;

export function emulatorPlan(lab: string, image: NetlabImage, addresses: KindAddressPlan, internalKubeconfig: string, timeScale: number): ContainerPlan {
  return {
    name: emulatorName(lab),
    image: image.tag,
    network: KIND_NETWORK,
    ipv4: addresses.emulatorIp,
    hostname: emulatorName(lab),
    capAdd: ['NET_ADMIN', 'NET_RAW'],
    sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0' },
    env: {},
    labels: { [LAB_LABEL]: lab, 'netlab.role': 'nlb-emulator' },
    mounts: [{ source: internalKubeconfig, target: EMULATOR_KUBECONFIG, readOnly: true }],
    entrypoint: 'node',
    cmd: [
      `${image.root}/dist/cluster/nlb/api/main.js`,
      '--kubeconfig', EMULATOR_KUBECONFIG,
      '--cluster-name', lab,
      '--zones', Object.entries(addresses.zoneIps).map(([z, ip]) => `${z}=${ip}`).join(','),
      '--pool', `${addresses.nlbPool.start}-${addresses.nlbPool.end}`,
      '--interface', 'eth0',
      '--time-scale', String(timeScale),
    ],
    restart: 'no',
  };
}

/** A process that only keeps the client container alive; the traffic runs through `docker exec`. */
const IDLE = ['-e', 'setInterval(() => {}, 1 << 30)'];

export function clientPlan(lab: string, image: NetlabImage, addresses: KindAddressPlan): ContainerPlan {
  return {
    name: clientName(lab),
    image: image.tag,
    network: KIND_NETWORK,
    ipv4: addresses.clientIp,
    hostname: clientName(lab),
    capAdd: ['NET_ADMIN', 'NET_RAW'],
    sysctls: {},
    env: {},
    labels: { [LAB_LABEL]: lab, 'netlab.role': 'client' },
    entrypoint: 'node',
    cmd: IDLE,
    restart: 'no',
  };
}

/** A command to run inside one container (`docker exec CONTAINER ...argv`). */
export interface ContainerCommand {
  container: string;
  argv: string[];
}

/** The routes and addresses that give the client its 198.51.100.10 and bring replies back to it. */
export function clientRoutingPlan(lab: string, nodes: readonly string[], addresses: KindAddressPlan): ContainerCommand[] {
  const client = clientName(lab);
  return [
    { container: client, argv: ['ip', 'address', 'replace', `${CLIENT_PUBLIC_IP}/32`, 'dev', 'eth0'] },
    { container: client, argv: ['ip', 'route', 'replace', addresses.nlbPool.cidr, 'dev', 'eth0', 'src', CLIENT_PUBLIC_IP] },
    { container: emulatorName(lab), argv: ['ip', 'route', 'replace', CLIENT_PUBLIC_NET, 'via', addresses.clientIp, 'dev', 'eth0'] },
    ...nodes.map((node) => ({ container: node, argv: ['ip', 'route', 'replace', CLIENT_PUBLIC_NET, 'via', addresses.emulatorIp, 'dev', 'eth0'] })),
  ];
}
