/**
 * Network namespace inodes: the probe filters on them in the kernel, and the parser maps them
 * back to lab names. A named namespace's inode is the inode of its bind mount under /run/netns
 * (what `stat -L -c %i /run/netns/NAME` prints); a process's is that of /proc/PID/ns/net.
 */
import { stat } from 'node:fs/promises';
import { NetlabError } from '../../../analyzer/errors.js';

export interface TracedNamespace {
  /** The label used in point names (`<name>:<device>`), e.g. `worker` or `L-worker`. */
  name: string;
  inode: number;
}

async function inodeOf(path: string, what: string): Promise<number> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    throw new NetlabError(`cannot read the network namespace of ${what}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      where: path,
      hint: 'is the lab up? (netlab status)',
      cause: err,
    });
  }
}

/** The inode of the named namespace `ip netns` knows as `netns`. */
export function netnsInode(netns: string): Promise<number> {
  return inodeOf(`/run/netns/${netns}`, `namespace ${netns}`);
}

/** The inode of the namespace process `pid` runs in. */
export function pidNetnsInode(pid: number): Promise<number> {
  return inodeOf(`/proc/${pid}/ns/net`, `process ${pid}`);
}

/**
 * Resolve namespaces by their `ip netns` name; `label` turns that name into the point-name
 * prefix (default: the name itself).
 */
export async function resolveNamespaces(netnsNames: readonly string[], label: (netns: string) => string = (n) => n): Promise<TracedNamespace[]> {
  const out: TracedNamespace[] = [];
  for (const netns of netnsNames) out.push({ name: label(netns), inode: await netnsInode(netns) });
  const seen = new Map<number, string>();
  for (const ns of out) {
    const other = seen.get(ns.inode);
    if (other !== undefined) {
      throw new NetlabError(`namespaces ${other} and ${ns.name} are the same namespace (inode ${ns.inode})`, {
        hint: 'trace each namespace once',
        exitCode: 1,
      });
    }
    seen.set(ns.inode, ns.name);
  }
  return out;
}
