/**
 * The thin system side of API mode, in the emulator's own network namespace (its container on a
 * real cluster): addresses on one interface, routes to pod CIDRs, forwarding, and the zones' NAT
 * rules in chains of their own (NLBAPI-*) so that rules the container runtime keeps there — such
 * as Docker's embedded DNS — are left alone. Every step is idempotent; `cleanup` undoes them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { NetlabError } from '../../../analyzer/errors.js';
import { run } from '../../exec/exec.js';
import { HOOKED_CHAINS } from '../dataplane/rules.js';

export const OWN_CHAIN_PREFIX = 'NLBAPI-';

export interface LinkInfo {
  mac: string;
  addresses: string[];
}

export async function linkInfo(iface: string): Promise<LinkInfo> {
  const r = await run('ip', ['-j', 'addr', 'show', 'dev', iface], { allowFailure: true });
  if (r.exitCode !== 0) {
    throw new NetlabError(`interface ${iface} does not exist in this network namespace`, { exitCode: 1, hint: 'pass --interface with one of: ip -br link' });
  }
  const [link] = JSON.parse(r.stdout) as Array<{ address?: string; addr_info?: Array<{ family: string; local: string }> }>;
  return { mac: link?.address ?? '', addresses: (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local) };
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/**
 * Forwarding must be on for DNAT to targets. Read and written through /proc (no sysctl binary
 * needed in an image); a container may not be allowed to turn it on.
 */
export async function ensureForwarding(): Promise<void> {
  if ((await readFile(IP_FORWARD, 'utf8')).trim() === '1') return;
  try {
    await writeFile(IP_FORWARD, '1\n');
  } catch (err) {
    throw new NetlabError(`cannot turn on IP forwarding in this network namespace (${(err as NodeJS.ErrnoException).code})`, {
      where: IP_FORWARD,
      hint: 'run the emulator privileged, or its container with --sysctl net.ipv4.ip_forward=1',
    });
  }
}

export async function addAddress(iface: string, ip: string): Promise<void> {
  await run('ip', ['addr', 'replace', `${ip}/32`, 'dev', iface]);
}

export async function removeAddress(iface: string, ip: string): Promise<void> {
  await run('ip', ['addr', 'del', `${ip}/32`, 'dev', iface], { allowFailure: true });
}

export async function setRoute(iface: string, cidr: string, via: string): Promise<void> {
  await run('ip', ['route', 'replace', cidr, 'via', via, 'dev', iface]);
}

export async function removeRoute(cidr: string): Promise<void> {
  await run('ip', ['route', 'del', cidr], { allowFailure: true });
}

/** Load the rules (NLBAPI-* chains only) and make sure each built-in chain jumps to its own chain once. */
export async function applyOwnChains(text: string): Promise<void> {
  await run('iptables-restore', ['-w', '5', '--noflush'], { input: text, timeoutMs: 10_000 });
  for (const h of HOOKED_CHAINS) {
    const jump = [h.chain, '-j', `${OWN_CHAIN_PREFIX}${h.chain}`];
    const present = await run('iptables', ['-w', '5', '-t', h.table, '-C', ...jump], { allowFailure: true });
    if (present.exitCode !== 0) await run('iptables', ['-w', '5', '-t', h.table, '-I', ...jump.slice(0, 1), '1', ...jump.slice(1)]);
  }
}

export async function removeOwnChains(): Promise<void> {
  for (const h of HOOKED_CHAINS) {
    const own = `${OWN_CHAIN_PREFIX}${h.chain}`;
    await run('iptables', ['-w', '5', '-t', h.table, '-D', h.chain, '-j', own], { allowFailure: true });
    await run('iptables', ['-w', '5', '-t', h.table, '-F', own], { allowFailure: true });
  }
  // Listener chains (NLB-*) are referenced from the NLBAPI-* chains: flush and remove them, then those.
  const saved = await run('iptables-save', ['-t', 'nat'], { allowFailure: true });
  for (const chain of saved.stdout.split('\n').filter((l) => l.startsWith(':NLB-')).map((l) => l.slice(1).split(' ')[0]!)) {
    await run('iptables', ['-w', '5', '-t', 'nat', '-F', chain], { allowFailure: true });
    await run('iptables', ['-w', '5', '-t', 'nat', '-X', chain], { allowFailure: true });
  }
  for (const h of HOOKED_CHAINS) await run('iptables', ['-w', '5', '-t', h.table, '-X', `${OWN_CHAIN_PREFIX}${h.chain}`], { allowFailure: true });
}
