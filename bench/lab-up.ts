/**
 * How long `netlab up` takes for 3 nodes + 4 pods, and why it is batched: the same topology plan
 * created with one `ip -batch` per namespace and stage (what netlab does) versus one `ip` process
 * per line (the naive peer), measured in the same run. Root only; labs are named b<hex>… and
 * removed afterwards.
 *
 * Usage: npm run bench:lab [-- --rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { run } from '../cluster/exec/exec.js';
import { deleteNamespaces, runStages } from '../cluster/netns/apply.js';
import { planPodNetwork, planTopology, type IpBatch } from '../cluster/netns/plan.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const BIN = new URL('../cli/main.js', import.meta.url).pathname;

const FOUR_PODS = `apiVersion: apps/v1
kind: Deployment
metadata: {name: deploy-echo}
spec:
  replicas: 4
  selector: {matchLabels: {app: deploy-websrv}}
  template:
    metadata: {labels: {app: deploy-websrv}}
    spec:
      containers: [{name: echo, image: k8s.gcr.io/echoserver:1.5, ports: [{containerPort: 8080}]}]
`;

function stagesFor(lab: string): { stages: IpBatch[][]; namespaces: string[] } {
  const plan = planTopology({ lab, nodes: 3, zones: ['a', 'b'] });
  const pods = [1, 2, 1, 2].map((n, i) => planPodNetwork(lab, plan.nodes[n]!, 'default', `p${i}`, `10.244.${n}.${i + 2}`));
  const stages = [...plan.stages, ...[0, 1, 2].map((s) => pods.flatMap((p) => p.stages[s]!))];
  return { stages, namespaces: [...plan.namespaces, ...pods.map((p) => p.netns)] };
}

async function batched(lab: string): Promise<number> {
  const { stages, namespaces } = stagesFor(lab);
  const t0 = performance.now();
  await runStages(stages);
  const ms = performance.now() - t0;
  await deleteNamespaces(namespaces);
  return ms;
}

async function onePerLine(lab: string): Promise<number> {
  const { stages, namespaces } = stagesFor(lab);
  const t0 = performance.now();
  for (const stage of stages) {
    for (const b of stage) for (const line of b.lines) await run('ip', [...(b.netns ? ['-n', b.netns] : []), ...line.split(' ')]);
  }
  const ms = performance.now() - t0;
  await deleteNamespaces(namespaces);
  return ms;
}

async function fullUp(lab: string): Promise<number> {
  const t0 = performance.now();
  await run('node', [BIN, 'up', '--name', lab]);
  await run('node', [BIN, 'apply', '-f', '-', '--name', lab], { input: FOUR_PODS });
  const ms = performance.now() - t0;
  await run('node', [BIN, 'down', '--name', lab]);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tag = () => `b${randomBytes(2).toString('hex')}`;

const a: number[] = [];
const b: number[] = [];
const full: number[] = [];
for (let i = 0; i < rounds; i++) {
  // Alternate the pair so machine noise hits both alike.
  a.push(await batched(tag()));
  b.push(await onePerLine(tag()));
  full.push(await fullUp(tag()));
}
const [ma, mb] = [median(a), median(b)];
process.stdout.write(`topology 3 nodes + 4 pods, ${rounds} rounds (median):\n`);
process.stdout.write(`  batched ip -batch per namespace/stage: ${ma.toFixed(0)} ms\n`);
process.stdout.write(`  one ip process per line (peer):       ${mb.toFixed(0)} ms  (${(mb / ma).toFixed(1)}x slower)\n`);
process.stdout.write(`netlab up + apply 4 pods until ready (CLI wall time): ${(median(full) / 1000).toFixed(2)} s (target < 10 s)\n`);
