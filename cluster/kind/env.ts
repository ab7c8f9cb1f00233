/**
 * What the kind provider needs from the machine, gathered in one object so tests can point it at
 * fake `kind`/`docker` binaries, a fake API server and a local MetalLB manifest.
 */
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { buildImage, IMAGE_APP_DIR } from '../docker/image.js';
import { which } from '../exec/exec.js';
import { DockerClient } from '../docker/client.js';
import { KubeClient } from '../kube/client.js';
import { METALLB, type ManifestPin } from './metallb.js';
import { kindHome } from './state.js';
import type { NetlabImage } from './workloads.js';

export interface KindEnv {
  docker: DockerClient;
  /** The kind binary (name on PATH or a path). */
  kind: string;
  kube(kubeconfig: string): KubeClient;
  /** Builds (or finds) netlab's image in the host's Docker engine. */
  buildImage(docker: DockerClient, log: (line: string) => void): Promise<NetlabImage>;
  metallb: ManifestPin;
  /** Where verified downloads are kept. */
  cacheDir: string;
  download?: (url: string) => Promise<string>;
  timeouts: { nodesMs: number; podsMs: number };
  log(line: string): void;
}

export const KIND_INSTALL_HINT = 'install kind from https://kind.sigs.k8s.io/docs/user/quick-start/#installation (a single binary; v0.32.0 is what netlab pins its node image for)';
export const DOCKER_INSTALL_HINT = 'apt-get install -y docker.io and start it (systemctl start docker), or use --provider netns (the default, no Docker needed)';

/** Fail with one line naming what is missing (exit 2) unless docker's engine and kind are both there. */
export async function requireTools(env: Pick<KindEnv, 'docker' | 'kind'>): Promise<void> {
  if (!(await which('docker'))) throw new NetlabError('the kind provider needs docker, which is not installed', { hint: DOCKER_INSTALL_HINT });
  if (!(env.kind.includes('/') || (await which(env.kind)))) throw new NetlabError('the kind provider needs the kind binary, which is not on PATH', { hint: KIND_INSTALL_HINT });
  try {
    await env.docker.info();
  } catch (err) {
    throw new NetlabError(`the kind provider needs a running Docker engine: ${err instanceof NetlabError ? err.message : String(err)}`, { hint: DOCKER_INSTALL_HINT });
  }
}

export function kubeFor(kubeconfig: string): KubeClient {
  return KubeClient.fromOptions({ kubeconfig });
}


/** The machine's real tools: docker's default engine, kind on PATH, netlab's image from cluster/docker/image.ts. */
export function defaultKindEnv(log: (line: string) => void = () => undefined): KindEnv {
  return {
    docker: new DockerClient(),
    kind: process.env.NETLAB_KIND_BIN ?? 'kind',
    kube: kubeFor,
    buildImage: async (docker, say) => {
      say('building netlab\'s image in the local Docker engine (reused when netlab has not changed)');
      const built = await buildImage(docker);
      say(built.built ? `built ${built.tag} (${(built.tarBytes / 1e6).toFixed(0)} MB)` : `reusing ${built.tag}`);
      return { tag: built.tag, root: IMAGE_APP_DIR };
    },
    metallb: METALLB,
    cacheDir: path.join(kindHome(), '..', 'cache'),
    timeouts: { nodesMs: 300_000, podsMs: 300_000 },
    log,
  };
}
