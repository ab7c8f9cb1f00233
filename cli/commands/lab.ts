/** The lab commands: up, down, status, apply, delete, get, exec, node. */
import { readFile } from 'node:fs/promises';
import { NetlabError, UsageError } from '../../analyzer/errors.js';
import { spawn } from '../../cluster/exec/exec.js';
import { checkLabName, labDir } from '../../cluster/lab/names.js';
import { isAlive } from '../../cluster/lab/processes.js';
import { readState, requireState } from '../../cluster/lab/state.js';
import { readKindState } from '../../cluster/kind/state.js';
import { applyManifests, deleteManifests, waitForPods } from '../../cluster/lab/api.js';
import { renderGet, renderStatus, resourceOf } from '../../cluster/lab/views.js';
import { NetnsProvider } from '../../cluster/netns/provider.js';
import { defaultKindEnv } from '../../cluster/kind/env.js';
import { KindProvider } from '../../cluster/kind/provider.js';
import { kindStatusLines, kindUpSummary } from '../../cluster/kind/summary.js';
import { nlbStatusLines, nlbSummaries } from '../../cluster/nlb/describe.js';
import type { LabProvider } from '../../cluster/lab/provider.js';

// `netlab up --dry-run | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

function provider(): LabProvider {
  return new NetnsProvider();
}

/** Progress of the kind provider's long steps goes to stderr, so stdout keeps the result line. */
function kindProvider(): KindProvider {
  return new KindProvider(defaultKindEnv((line) => process.stderr.write(`netlab: ${line}\n`)));
}

function parseIntOption(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} '${value}' is not a whole number`);
  return Number(value);
}

export async function up(opts: { provider?: string; name: string; nodes: string; zones: string; timeScale: string; dryRun?: boolean }): Promise<number> {
  const name = checkLabName(opts.name);
  const started = Date.now();
  const upOptions = {
    name,
    nodes: parseIntOption(opts.nodes, '--nodes'),
    zones: opts.zones.split(',').map((z) => z.trim()).filter(Boolean),
    timeScale: Number(opts.timeScale),
    dryRun: opts.dryRun ? (line: string) => process.stdout.write(`${line}\n`) : undefined,
  };
  if (opts.provider === 'kind') {
    const kind = await kindProvider().up(upOptions);
    if (kind) process.stdout.write(`${kindUpSummary(kind, started)}\n`);
    return 0;
  }
  const state = await provider().up(upOptions);
  if (state && Date.parse(state.createdAt) < started) {
    process.stdout.write(`lab ${name} is already up (created ${state.createdAt})\n`);
  } else if (state) {
    process.stdout.write(`lab ${name} is up: ${state.nodes.length} nodes (${state.nodes.map((n) => n.name).join(', ')}), client ${state.client.ip} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    process.stdout.write(`  try: netlab apply --name ${name} -f fixtures/manifests/echo-service-nlb.yaml; netlab get pods -o wide --name ${name}\n`);
  }
  return 0;
}

export async function down(opts: { name: string; provider?: string }): Promise<number> {
  const name = checkLabName(opts.name);
  // Without --provider, a kind lab of that name goes too (its record says it exists).
  const kindRemoved = opts.provider !== 'netns' && (await kindProvider().down(name));
  const removed = opts.provider === 'kind' ? kindRemoved : (await provider().down(name)) || kindRemoved;
  process.stdout.write(removed ? `lab ${name} removed\n` : `no lab ${name}; nothing to remove\n`);
  return 0;
}

export async function status(opts: { name: string; json?: boolean }): Promise<number> {
  const name = checkLabName(opts.name);
  // A kind lab of that name (and no netns lab) answers from its own record.
  const netns = await readState(name);
  const kind = netns ? null : await readKindState(name);
  if (kind) {
    process.stdout.write(opts.json ? `${JSON.stringify(kind, null, 2)}\n` : `${kindStatusLines(kind).join('\n')}\n`);
    return 0;
  }
  const state = netns ?? (await requireState(name));
  const alive = !!state.controller.pid && isAlive(state.controller.pid);
  const loadBalancers = await nlbSummaries(state, labDir(state.name));
  if (opts.json) {
    const { resources, applied: _a, ...rest } = state;
    process.stdout.write(`${JSON.stringify({ ...rest, controllerRunning: alive, resources, loadBalancers }, null, 2)}\n`);
  } else {
    process.stdout.write(`${[renderStatus(state, alive), ...nlbStatusLines(loadBalancers, state.options.timeScale)].join('\n')}\n`);
  }
  return 0;
}

async function readManifest(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new NetlabError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'check the path given to -f' });
  }
}

export async function apply(opts: { filename: string; name: string }): Promise<number> {
  const lab = checkLabName(opts.name);
  const text = await readManifest(opts.filename);
  const { lines, deployments } = await applyManifests(lab, text, opts.filename === '-' ? '<stdin>' : opts.filename);
  process.stdout.write(`${lines.join('\n')}\n`);
  const pending = await waitForPods(lab, deployments, 30_000);
  if (pending) process.stderr.write(`netlab: pods not ready after 30 s: ${pending} (see netlab get pods -o wide --name ${lab})\n`);
  return 0;
}

export async function remove(opts: { filename: string; name: string }): Promise<number> {
  const lab = checkLabName(opts.name);
  const text = await readManifest(opts.filename);
  const lines = await deleteManifests(lab, text, opts.filename === '-' ? '<stdin>' : opts.filename);
  process.stdout.write(`${lines.join('\n')}\n`);
  return lines.some((l) => l.startsWith('Error')) ? 2 : 0;
}

export async function get(resource: string, opts: { namespace: string; allNamespaces?: boolean; output?: string; name: string }): Promise<number> {
  // kubectl accepts a comma-separated list (get svc,ep) and prints one table per resource.
  const resources = resource.split(',').map((r) => {
    const known = resourceOf(r);
    if (!known) throw new UsageError(`unknown resource '${r}'`, 'use nodes, pods, svc or ep (or a comma-separated list)');
    return known;
  });
  if (opts.output !== undefined && opts.output !== 'wide' && opts.output !== 'json') throw new UsageError(`unknown output format '${opts.output}'`, 'use -o wide or -o json');
  const state = await requireState(checkLabName(opts.name));
  const output = opts.output === 'json' ? 'json' : opts.output === 'wide' ? 'wide' : 'table';
  const texts = resources.map((r) => renderGet(state, r, { namespace: opts.namespace, allNamespaces: !!opts.allNamespaces, output }));
  process.stdout.write(`${texts.join('\n\n')}\n`);
  return 0;
}

export async function exec(target: string, command: string[], opts: { namespace: string; name: string }): Promise<number> {
  const lab = checkLabName(opts.name);
  if (command.length === 0) throw new UsageError('no command given', `e.g. netlab exec ${target} -- ip addr`);
  const where = await provider().execTarget(lab, target, opts.namespace);
  const child = spawn(command[0]!, command.slice(1), { netns: where.netns, stdio: 'inherit' });
  // `ip netns exec` reports a missing command itself (exit 255); the exit code passes through.
  const result = await child;
  return result.exitCode ?? (result.signal ? 128 : 1);
}

export async function node(verb: string, nodeName: string, opts: { name: string }): Promise<number> {
  if (verb !== 'stop' && verb !== 'start') throw new UsageError(`unknown verb '${verb}'`, 'use netlab node stop NAME or netlab node start NAME');
  const lab = checkLabName(opts.name);
  await provider().setNodeStopped(lab, nodeName, verb === 'stop');
  const state = await requireState(lab);
  const leaders = Object.entries(state.metallb.leaders).map(([vip, n]) => `${vip} → ${n}`);
  process.stdout.write(`node ${nodeName} ${verb === 'stop' ? 'stopped' : 'started'}${leaders.length ? `; MetalLB leaders: ${leaders.join(', ')}` : ''}\n`);
  return 0;
}
