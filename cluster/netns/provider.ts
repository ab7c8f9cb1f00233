/** The netns provider: the lab in Linux network namespaces, with real iptables and real processes. */
import type { ExecTarget, LabProvider, UpOptions } from '../lab/provider.js';
import { reconcile } from '../lab/reconcile.js';
import { readState, requireState, updateState, type LabState } from '../lab/state.js';
import { existingNamespaces, runStages } from './apply.js';
import { teardown } from './delete.js';
import { findNode, planNodePower, resolveExecTarget } from './node.js';
import { checkLabBuild, provision, startDaemons, validateUpOptions } from './provision.js';
import { NetlabError } from '../../analyzer/errors.js';

export class NetnsProvider implements LabProvider {
  readonly name = 'netns' as const;

  async up(opts: UpOptions): Promise<LabState | null> {
    validateUpOptions(opts);
    const existing = await readState(opts.name);
    if (existing && !opts.dryRun) {
      const present = await existingNamespaces();
      if (existing.phase === 'ready' && existing.resources.namespaces.every((n) => present.has(n))) {
        await checkLabBuild(existing);
        // Up already: only bring back a controller or node agent that died.
        return updateState(opts.name, (state) => {
          startDaemons(state);
          return state;
        });
      }
      // Half made (an `up` that died) or damaged from outside: start over from a clean slate.
      await teardown(opts.name);
    }
    return provision(opts);
  }

  down(lab: string): Promise<boolean> {
    return teardown(lab);
  }

  status(lab: string): Promise<LabState | null> {
    return readState(lab);
  }

  async execTarget(lab: string, target: string, podNamespace: string): Promise<ExecTarget> {
    return resolveExecTarget(await requireState(lab), target, podNamespace);
  }

  async setNodeStopped(lab: string, nodeName: string, stopped: boolean): Promise<void> {
    await updateState(lab, async (state) => {
      if (state.phase !== 'ready') throw new NetlabError(`lab '${lab}' is ${state.phase}`, { hint: 'wait for netlab up to finish' });
      const node = findNode(state, nodeName);
      if (node.stopped === stopped) return;
      node.stopped = stopped;
      await runStages([planNodePower(state, node, stopped)]);
      // Another node's routes to this one's pod CIDR survive; its own routes came back above.
      state.generation++;
      await reconcile(state, () => undefined);
    });
  }
}
