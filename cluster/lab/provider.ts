/**
 * What a lab backend does. The netns provider (cluster/netns) is the default; the kind provider
 * (cluster/kind) implements the same interface with the same file split (provider.ts, provision.ts,
 * delete.ts, node.ts), as kind's own providers (docker, podman, nerdctl) share one.
 */
import type { LabState } from './state.js';

export interface UpOptions {
  name: string;
  nodes: number;
  zones: string[];
  timeScale: number;
  /** Print every command and file instead of changing anything. */
  dryRun?: (line: string) => void;
}

export interface ExecTarget {
  /** The network namespace the command runs in. */
  netns: string;
  /** What the target is, for messages: 'node worker', 'pod default/x', 'client'. */
  describe: string;
}

/** `S` is the provider's own state record (the netns lab's LabState, the kind lab's KindLabState). */
export interface LabProvider<S = LabState> {
  readonly name: 'netns' | 'kind';
  /** Create the lab, or finish a half-made one; a lab that is up is left as it is. Returns the state. */
  up(opts: UpOptions): Promise<S | null>;
  /** Remove everything the lab made; safe when nothing (or half of it) exists. Returns whether anything was there. */
  down(lab: string): Promise<boolean>;
  /** The lab's state, or null when it is not up. */
  status(lab: string): Promise<S | null>;
  /** Where `netlab exec TARGET` runs. */
  execTarget(lab: string, target: string, podNamespace: string): Promise<ExecTarget>;
  /** `netlab node stop|start NAME`. */
  setNodeStopped(lab: string, node: string, stopped: boolean): Promise<void>;
}
