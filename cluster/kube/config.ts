/**
 * Kubeconfig loading through @kubernetes/client-node, with netlab's one-line errors: a missing or
 * unreadable file, a context that is not in it, or a context without a cluster.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NetlabError } from '../../analyzer/errors.js';

export interface KubeConfigOptions {
  /** A kubeconfig file; default $KUBECONFIG (its first file), then ~/.kube/config. */
  kubeconfig?: string;
  /** A context of that file; default its current-context. */
  context?: string;
}

function defaultKubeconfig(): string {
  const fromEnv = (process.env.KUBECONFIG ?? '').split(path.delimiter).find((f) => f !== '');
  return fromEnv ?? path.join(homedir(), '.kube', 'config');
}

export function loadKubeConfig(opts: KubeConfigOptions = {}): KubeConfig {
  const file = opts.kubeconfig ?? defaultKubeconfig();
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NetlabError(code === 'ENOENT' ? 'kubeconfig file not found' : `kubeconfig file cannot be read (${code})`, {
      where: file,
      hint: opts.kubeconfig ? 'pass an existing file with --kubeconfig' : 'pass --kubeconfig FILE or set KUBECONFIG',
    });
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new NetlabError(`kubeconfig is not valid: ${(err as Error).message.split('\n')[0]}`, { where: file, hint: 'check it with kubectl config view', cause: err });
  }
  const contexts = kc.getContexts().map((c) => c.name);
  if (opts.context !== undefined) {
    if (!contexts.includes(opts.context)) {
      throw new NetlabError(`context '${opts.context}' is not in the kubeconfig`, {
        where: file,
        exitCode: 1,
        hint: contexts.length ? `use one of: ${contexts.join(', ')}` : 'the file has no contexts',
      });
    }
    kc.setCurrentContext(opts.context);
  }
  const current = kc.getCurrentContext();
  if (!current || !contexts.includes(current)) {
    throw new NetlabError(current ? `current-context '${current}' is not in the kubeconfig` : 'the kubeconfig has no current-context', {
      where: file,
      hint: contexts.length ? `pass --context with one of: ${contexts.join(', ')}` : 'the file has no contexts',
    });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new NetlabError(`context '${current}' names no cluster with a server address`, { where: file, hint: 'fix the context\'s cluster entry' });
  }
  return kc;
}
