/**
 * Every name the lab gives to a namespace, a link or a file, in one place, so `down`, the capture
 * helper and the NLB emulator derive the same names from the same inputs (docs/lab-topology.md).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { UsageError } from '../../analyzer/errors.js';

/** Where every lab keeps its state, logs and sockets; tests may point it elsewhere. */
export function runRoot(): string {
  return process.env.NETLAB_RUN_DIR ?? '/run/netlab';
}

/** Lab names become namespace prefixes and file names: keep them short and shell-free. */
export function checkLabName(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,19}$/.test(name)) {
    throw new UsageError(`invalid lab name '${name}'`, 'use 1-20 characters: lower-case letters, digits and -, starting with a letter or digit');
  }
  return name;
}

export const labDir = (lab: string): string => path.join(runRoot(), lab);
export const statePath = (lab: string): string => path.join(labDir(lab), 'state.json');
export const lockPath = (lab: string): string => path.join(labDir(lab), 'state.lock');
export const controllerLogPath = (lab: string): string => path.join(labDir(lab), 'controller.log');
export const podLogPath = (lab: string, ns: string, pod: string): string => path.join(labDir(lab), 'pods', `${ns}_${pod}.log`);
export const nodeDir = (lab: string, node: string): string => path.join(labDir(lab), 'nodes', node);
/** The client namespace's /etc/hosts, which `ip netns exec` bind-mounts over /etc/hosts. */
export const clientHostsDir = (lab: string): string => path.join('/etc/netns', nsClient(lab));

export const nsFabric = (lab: string): string => `${lab}-fabric`;
export const nsRouter = (lab: string): string => `${lab}-router`;
export const nsClient = (lab: string): string => `${lab}-client`;
export const nsNode = (lab: string, node: string): string => `${lab}-${node}`;
/** Pods of namespace `default` keep the bare pod name, as docs/lab-topology.md shows; others get the namespace too. */
export const nsPod = (lab: string, namespace: string, pod: string): string =>
  namespace === 'default' ? `${lab}-pod-${pod}` : `${lab}-pod-${namespace}-${pod}`;
export const nsNlb = (lab: string, zone: string): string => `${lab}-nlb-${zone}`;

/** Node-side name of a pod's veth, as kindnet's ptp CNI names it: veth + 8 hex of a hash. */
export function podVethName(namespace: string, pod: string): string {
  return `veth${createHash('sha256').update(`${namespace}/${pod}`).digest('hex').slice(0, 8)}`;
}
