/** What a capture point is, shared by the capturers, the manifest and the analyzer. */

import type { PointRole } from '../../analyzer/hops/types.js';

export type { PointRole };

/** One network namespace to capture in; its interfaces become one point each. */
export interface CaptureTarget {
  /** Short point-name prefix: `client`, `nlb-a`, `worker`, `pod/deploy-echo-…`. */
  name: string;
  role: PointRole;
  netns: string;
  node: string | null;
  pod: string | null;
  /** Kubernetes namespace of the pod. */
  namespace: string | null;
  /** Interfaces to capture (the cap agent opens each); tcpdump captures `any` and splits later. */
  interfaces: string[];
}

/** Capture traffic the lab's lessons are about: TCP, plus ARP (MetalLB) and ICMP (errors). */
export const DEFAULT_FILTER = 'tcp or arp or icmp';

export interface CapturedFile {
  target: CaptureTarget;
  file: string;
  /** Link type of the file (276 LINUX_SLL2 for tcpdump -i any, 1 ETHERNET per interface for cap). */
  linktype: number;
  /** For `-i any` captures: interface index → name, resolved in the capture's own namespace. */
  ifindexMap: Record<string, string> | null;
  /** For per-interface captures: the interface. */
  interface: string | null;
  packets: number;
  /** Packets the kernel dropped before the capture saw them; null where the capturer cannot tell. */
  dropped: number | null;
  timestampSource: 'kernel' | 'userspace';
}

/** Wait until every capture process says it is capturing; if one cannot, stop them all. */
export async function allReady(procs: ReadonlyArray<{ ready: Promise<void>; child: { kill(signal: NodeJS.Signals): boolean } & PromiseLike<unknown> }>): Promise<void> {
  try {
    await Promise.all(procs.map((p) => p.ready));
  } catch (err) {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.allSettled(procs.map((p) => p.child));
    throw err;
  }
}
