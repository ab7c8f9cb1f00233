/**
 * `netlab doctor`'s Docker rows: is the engine installed, does one answer, is netlab's image
 * there, and what the kind provider needs beyond Docker. Facts are gathered first and judged by
 * a pure function, so every combination is unit-tested without an engine.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult } from '../doctor/checks.js';
import { run, which } from '../exec/exec.js';
import { PROJECT_ROOT } from '../exec/paths.js';
import { DockerClient, type DockerInfo } from './client.js';
import { IMAGE_REPOSITORY } from './image.js';

export interface DockerFacts {
  /** `dockerd --version`, or null when no dockerd is installed. */
  dockerd: string | null;
  /** Path of the docker CLI, or null. */
  cli: string | null;
  /** Where the CLI looks for an engine (DOCKER_HOST or the default socket). */
  address: string;
  engine: { ok: true; info: DockerInfo } | { ok: false; reason: string };
  netlabVersion: string;
  /** repository:tag of the engine's images, when it answered. */
  images: string[];
}

const BLOCKS_KIND = 'the kind provider (netlab up --provider kind)';

/** The doctor rows for these facts (pure). */
export function dockerCheckResults(f: DockerFacts): CheckResult[] {
  const rows: CheckResult[] = [
    {
      name: 'dockerd',
      status: f.dockerd ? 'ok' : 'missing',
      detail: f.dockerd ?? 'not installed',
      blocks: `${BLOCKS_KIND} and the Docker engine test (test/cluster/docker), which starts a private dockerd`,
      fix: f.dockerd ? null : 'apt-get install -y docker.io (scripts/setup.sh does it without starting the service)',
      required: false,
    },
  ];
  if (!f.cli) return rows;
  if (!f.engine.ok) {
    rows.push({
      name: 'docker engine',
      status: 'missing',
      detail: `none answers at ${f.address}: ${f.engine.reason}`.slice(0, 160),
      blocks: `${BLOCKS_KIND}; netlab's own tests do not need it (they start a private dockerd)`,
      fix: f.dockerd ? 'service docker start (or systemctl start docker)' : 'apt-get install -y docker.io, then service docker start',
      required: false,
    });
    return rows;
  }
  const { info } = f.engine;
  rows.push({
    name: 'docker engine',
    status: 'ok',
    detail: `${f.address}: server ${info.serverVersion}, ${info.storageDriver}, cgroup v${info.cgroupVersion || '?'}`,
    blocks: BLOCKS_KIND,
    fix: null,
    required: false,
  });
  const ours = f.images.filter((i) => i.startsWith(`${IMAGE_REPOSITORY}:${f.netlabVersion}-`));
  rows.push({
    name: 'netlab image',
    status: ours.length > 0 ? 'ok' : 'warn',
    detail: ours.length > 0 ? ours.join(', ') : `no ${IMAGE_REPOSITORY}:${f.netlabVersion}-* image yet`,
    blocks: 'nothing: it is built from this host\'s files on the first netlab up --provider kind (about 200 MB, no pull)',
    fix: null,
    required: false,
  });
  const nodes = f.images.filter((i) => i.startsWith('kindest/node:'));
  rows.push({
    name: 'kindest/node image',
    status: nodes.length > 0 ? 'ok' : 'missing',
    detail: nodes.length > 0 ? nodes.join(', ') : 'not in this engine, and kind pulls it from a registry',
    blocks: BLOCKS_KIND,
    fix: nodes.length > 0 ? null : 'on a machine with registry access: docker pull the kind release\'s kindest/node image (or docker load a saved one)',
    required: false,
  });
  return rows;
}

/** Gathers the facts from this machine; `docker` defaults to the CLI's own engine. */
export async function gatherDockerFacts(docker = new DockerClient()): Promise<DockerFacts> {
  const pkg = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  const dockerdPath = await which('dockerd');
  const dockerd = dockerdPath ? (await run(dockerdPath, ['--version'], { allowFailure: true, timeoutMs: 5_000 })).stdout.trim() || dockerdPath : null;
  const cli = await which('docker');
  const address = docker.host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const facts: DockerFacts = { dockerd, cli, address, engine: { ok: false, reason: 'no docker CLI' }, netlabVersion: pkg.version, images: [] };
  if (!cli) return facts;
  try {
    facts.engine = { ok: true, info: await docker.info() };
  } catch (err) {
    facts.engine = { ok: false, reason: (err as Error).message.replace(/^docker failed \(exit \d+\): /, '') };
    return facts;
  }
  facts.images = await docker.images().catch(() => []);
  return facts;
}
