/**
 * Where netlab puts its own addresses on the `kind` docker network. kind picks that network's
 * subnet itself (172.18.0.0/16 on a fresh machine, another range when that one is taken, plus an
 * IPv6 subnet), and docker hands node addresses out from the bottom, so netlab works from the top:
 * the last 256 addresses hold the NLB emulator's load balancer addresses, the client and emulator
 * containers, and the MetalLB pool. Pure.
 */
import { NetlabError } from '../../analyzer/errors.js';

export interface Ipv4Subnet {
  /** As docker prints it, e.g. 172.19.0.0/16. */
  cidr: string;
  /** First address as a 32-bit number. */
  base: number;
  prefix: number;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new NetlabError(`'${ip}' is not an IPv4 address`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parse an IPv4 CIDR; null for IPv6 or anything else (callers skip those). */
export function parseIpv4Subnet(cidr: string): Ipv4Subnet | null {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!m) return null;
  const prefix = Number(m[2]);
  if (prefix > 32) return null;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { cidr: cidr.trim(), base: (ipToNumber(m[1]!) & mask) >>> 0, prefix };
}

/** The IPv4 subnet among a network's subnets (kind's network may carry an IPv6 one too). */
export function pickIpv4Subnet(subnets: ReadonlyArray<{ subnet: string }>, network: string): Ipv4Subnet {
  for (const s of subnets) {
    const parsed = parseIpv4Subnet(s.subnet);
    if (parsed) return parsed;
  }
  throw new NetlabError(`docker network '${network}' has no IPv4 subnet (it has: ${subnets.map((s) => s.subnet).join(', ') || 'none'})`, {
    hint: `netlab's kind lab needs IPv4: run kind delete cluster, docker network rm ${network}, and netlab up --provider kind again`,
  });
}

export interface KindAddressPlan {
  subnet: string;
  /** The MetalLB IPAddressPool range, inclusive. */
  pool: { start: string; end: string };
  /** The NLB emulator's load balancer addresses (its --pool), inclusive, and the /27 holding them (the client's route). */
  nlbPool: { start: string; end: string; cidr: string };
  /** The client container's address on the kind network. */
  clientIp: string;
  /** The NLB emulator container's own address on the kind network. */
  emulatorIp: string;
  /** One zone-node address per zone (added by the emulator on its eth0; health checks come from it), keyed by short zone name. */
  zoneIps: Record<string, string>;
}

/**
 * Offsets in the subnet's top /24: NLB addresses in the /27 at .96, netlab's containers at .190,
 * MetalLB's pool at .200-.250 (the netns lab's numbers). Docker hands out addresses from the
 * bottom, so a kind network would need ~24000 containers (on a /16) to collide.
 */
const NLB_BLOCK = 96;
const CONTAINERS = 190;
const MAX_ZONES = 8;

export function kindAddressPlan(subnet: Ipv4Subnet, zones: readonly string[]): KindAddressPlan {
  const size = 2 ** (32 - subnet.prefix);
  if (size < 256) {
    throw new NetlabError(`the kind network's subnet ${subnet.cidr} has ${size} addresses; netlab needs at least a /24`, { hint: 'let kind create its network (a /16), or recreate it with a /24 or larger' });
  }
  if (zones.length > MAX_ZONES) throw new NetlabError(`${zones.length} zones: the kind lab has room for ${MAX_ZONES}`, { exitCode: 1, hint: 'use fewer --zones' });
  const top = subnet.base + size - 256;
  const at = (offset: number) => numberToIp(top + offset);
  return {
    subnet: subnet.cidr,
    pool: { start: at(200), end: at(250) },
    nlbPool: { start: at(NLB_BLOCK + 1), end: at(NLB_BLOCK + 30), cidr: `${at(NLB_BLOCK)}/27` },
    clientIp: at(CONTAINERS),
    emulatorIp: at(CONTAINERS + 1),
    zoneIps: Object.fromEntries(zones.map((z, i) => [z, at(CONTAINERS + 2 + i)])),
  };
}

/** The external client's address, as in the netns lab: outside every cluster range. */
export const CLIENT_PUBLIC_IP = '198.51.100.10';
export const CLIENT_PUBLIC_NET = '198.51.100.0/24';
