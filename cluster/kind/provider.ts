/**
 * The kind provider: a real Kubernetes cluster in Docker (kind), with MetalLB, netlab's NLB
 * emulator and an external client as containers on kind's network. Same interface as the netns
 * provider (cluster/lab/provider.ts), with the same split: provision.ts (up), delete.ts (down).
 */
import type { ExecTarget, LabProvider, UpOptions } from '../lab/provider.js';
import { NetlabError, UsageError } from '../../analyzer/errors.js';
import { validateKindOptions } from './config.js';
import { teardown } from './delete.js';
import { requireTools, type KindEnv } from './env.js';
import { dryRun, provision } from './provision.js';
import { readKindState, requireKindState, type KindLabState } from './state.js';

export class KindProvider implements LabProvider<KindLabState> {
  readonly name = 'kind' as const;

  constructor(private readonly env: KindEnv) {}

  async up(opts: UpOptions): Promise<KindLabState | null> {
    const kindOpts = { name: opts.name, workers: opts.nodes - 1, zones: opts.zones, timeScale: opts.timeScale };
    validateKindOptions(kindOpts);
    if (!Number.isFinite(opts.timeScale) || opts.timeScale <= 0) throw new UsageError(`--time-scale '${opts.timeScale}' is not a positive number`, 'e.g. --time-scale 10');
    if (opts.dryRun) {
      dryRun(kindOpts, this.env, opts.dryRun);
      return null;
    }
    await requireTools(this.env);
    const existing = await readKindState(opts.name);
    if (existing?.phase === 'ready') return existing;
    // Half made (an `up` that died): start over from a clean slate.
    if (existing) await teardown(opts.name, this.env);
    try {
      return await provision(kindOpts, this.env);
    } catch (err) {
      this.env.log(`up failed; removing what it made`);
      await teardown(opts.name, this.env).catch((cleanupErr: unknown) => {
        this.env.log(`cleanup after the failure also failed: ${cleanupErr instanceof Error ? cleanupErr.message : String(cleanupErr)}`);
      });
      throw err;
    }
  }

  async down(lab: string): Promise<boolean> {
    if (!(await readKindState(lab))) return false;
    await requireTools(this.env);
    return teardown(lab, this.env);
  }

  status(lab: string): Promise<KindLabState | null> {
    return readKindState(lab);
  }

  async execTarget(lab: string, target: string): Promise<ExecTarget> {
    const state = await requireKindState(lab);
    throw new NetlabError(`netlab exec runs in network namespaces of the netns lab; '${target}' is a container of kind lab '${lab}'`, {
      exitCode: 1,
      hint: `use docker exec ${state.nodes.includes(target) ? target : state.nodes[1]} ... for a node, or kubectl --kubeconfig ${state.kubeconfig} exec for a pod`,
    });
  }

  /** A stopped node is a stopped node container: kubelet stops reporting, MetalLB and the NLB see it go. */
  async setNodeStopped(lab: string, node: string, stopped: boolean): Promise<void> {
    const state = await requireKindState(lab);
    const container = state.nodes.find((n) => n === node || n === `${state.cluster}-${node}`);
    if (!container) throw new NetlabError(`kind lab '${lab}' has no node '${node}'`, { exitCode: 1, hint: `nodes: ${state.nodes.join(', ')}` });
    if (stopped) await this.env.docker.stop(container);
    else await this.env.docker.start(container);
  }
}
