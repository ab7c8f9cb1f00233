/**
 * The kind cluster netlab asks for: one control plane and N workers, zone labels on the workers
 * (the NLB emulator and the lessons read `topology.kubernetes.io/zone`), and a pinned node image.
 * Pure: the YAML is a function of the options, snapshot-tested.
 */
import { stringify } from 'yaml';
import { UsageError } from '../../analyzer/errors.js';

/**
 * kind v0.32.0's default node image (pkg/apis/config/defaults/image.go at tag v0.32.0). kind
 * supports an image only with the release that built it, and only the digest says which build
 * it is, so the tag alone is never enough.
 */
export const KIND_RELEASE = 'v0.32.0';
export const NODE_IMAGE = 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5';

/** The zone label values read `lab-1a`, `lab-1b`, as in the netns lab (docs/lab-topology.md). */
export const REGION = 'lab-1';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface KindConfigOptions {
  /** The kind cluster's name (`kind create cluster --name`). */
  name: string;
  workers: number;
  /** Short zone names (`a`, `b`); workers take them round-robin. */
  zones: string[];
  image?: string;
}

/** What zone a worker (1-based among workers) lands in: round-robin, as the netns lab assigns them. */
export function workerZone(zones: readonly string[], workerIndex: number): string {
  return `${REGION}${zones[(workerIndex - 1) % zones.length]}`;
}

export function validateKindOptions(opts: KindConfigOptions): void {
  if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 8) {
    throw new UsageError(`--nodes gives ${opts.workers + 1} nodes; the kind provider makes 2 to 9 (a control plane and 1-8 workers)`, 'use --nodes 3 (the default) for the lessons');
  }
  if (opts.zones.length === 0) throw new UsageError('--zones is empty', 'give zone names such as a,b');
  for (const z of opts.zones) {
    if (!/^[a-z0-9]{1,8}$/.test(z)) throw new UsageError(`zone '${z}' is not a short lower-case name`, 'use names such as a,b');
  }
}

export function kindConfig(opts: KindConfigOptions): string {
  validateKindOptions(opts);
  const nodes: Array<Record<string, unknown>> = [{ role: 'control-plane', image: opts.image ?? NODE_IMAGE }];
  for (let w = 1; w <= opts.workers; w++) {
    nodes.push({ role: 'worker', image: opts.image ?? NODE_IMAGE, labels: { [ZONE_LABEL]: workerZone(opts.zones, w) } });
  }
  const config = {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: opts.name,
    // The same address ranges as the netns lab, so tables read alike across providers.
    networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16', kubeProxyMode: 'iptables' },
    nodes,
  };
  return `# written by netlab for kind ${KIND_RELEASE}\n${stringify(config)}`;
}
