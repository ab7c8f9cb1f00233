import { run } from '../exec/exec.js';

/** Interface index → name from `ip -j link show` or `ip -j addr show` (both list every interface with ifindex and ifname). */
export function parseIfindexNames(ipJson: string): Record<string, string> {
  const links = JSON.parse(ipJson) as Array<{ ifindex: number; ifname: string }>;
  return Object.fromEntries(links.map((l) => [String(l.ifindex), l.ifname]));
}

/** Interface index → name inside one namespace (SLL2 records carry only the index). */
export async function ifindexMap(netns: string): Promise<Record<string, string>> {
  const r = await run('ip', ['-n', netns, '-j', 'link', 'show']);
  return parseIfindexNames(r.stdout);
}
