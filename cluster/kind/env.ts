/**
 * What the kind provider needs from the machine, gathered in one object so tests can point it at
 * fake `kind`/`docker` binaries, a fake API server and a local MetalLB manifest.
 */
import { NetlabError } from '../../analyzer/errors.js';
import { which } from '../exec/exec.js';
import { DockerClient } from '../docker/client.js';
import { KindKube } from './kube.js';
import { METALLB, type ManifestPin } from './metallb.js';
import type { NetlabImage } from './workloads.js';

export interface KindEnv {
  docker: DockerClient;
  /** The kind binary (name on PATH or a path). */
  kind: string;
  kube(kubeconfig: string): KindKube;
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

export function kubeFor(kubeconfig: string): KindKube {
  return new KindKube(kubeconfig);
}

export { METALLB };
