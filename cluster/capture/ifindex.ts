import { run } from '../exec/exec.js';

/** Interface index → name inside one namespace (SLL2 records carry only the index). */
export async function ifindexMap(netns: string): Promise<Record<string, string>> {
  const r = await run('ip', ['-n', netns, '-j', 'link', 'show']);
  const links = JSON.parse(r.stdout) as Array<{ ifindex: number; ifname: string }>;
  return Object.fromEntries(links.map((l) => [String(l.ifindex), l.ifname]));
}
