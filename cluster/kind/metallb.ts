/**
 * MetalLB on the kind cluster: the upstream release's native (L2, no FRR) manifest, fetched by
 * netlab at `up` time and checked against a pinned SHA-256 (no MetalLB YAML lives in this repo),
 * then one IPAddressPool from the top of the kind subnet and an L2Advertisement for it.
 *
 * v0.16.1 is the newest MetalLB release (May 2026); its native manifest still serves the
 * metallb.io/v1beta1 IPAddressPool and L2Advertisement that netlab creates. The digest below is
 * the SHA-256 of config/manifests/metallb-native.yaml at tag v0.16.1 of metallb/metallb (the
 * bytes raw.githubusercontent.com serves for that URL).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { kindAddressPlan, type Ipv4Subnet } from './network.js';

export interface ManifestPin {
  version: string;
  url: string;
  sha256: string;
}

export const METALLB: ManifestPin = {
  version: 'v0.16.1',
  url: 'https://raw.githubusercontent.com/metallb/metallb/v0.16.1/config/manifests/metallb-native.yaml',
  sha256: 'bf25feebb7582ca7df845efd52ffbc2960d6cbf4cfc972f47fded9f788b67f0b',
};

export const METALLB_NAMESPACE = 'metallb-system';
export const POOL_NAME = 'netlab-pool';

/** The IPAddressPool and L2Advertisement for the kind network's IPv4 subnet (IPv6 is not announced). */
export function metallbObjects(subnet: Ipv4Subnet, zones: readonly string[] = ['a', 'b']): Array<Record<string, unknown>> {
  const { pool } = kindAddressPlan(subnet, zones);
  return [
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: POOL_NAME, namespace: METALLB_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'netlab' } },
      spec: { addresses: [`${pool.start}-${pool.end}`] },
    },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'L2Advertisement',
      metadata: { name: 'netlab-l2', namespace: METALLB_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'netlab' } },
      spec: { ipAddressPools: [POOL_NAME] },
    },
  ];
}

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/**
 * The release manifest's text: from the cache folder when a verified copy is there, else
 * downloaded and verified. A digest mismatch is an error whatever its source.
 */
export async function fetchPinnedManifest(pin: ManifestPin, cacheDir: string, download: (url: string) => Promise<string> = httpGet): Promise<string> {
  const cached = path.join(cacheDir, `${sha256(pin.url).slice(0, 12)}-${path.basename(pin.url)}`);
  const fromCache = await readFile(cached, 'utf8').catch(() => null);
  if (fromCache !== null && sha256(fromCache) === pin.sha256) return fromCache;
  const text = await download(pin.url);
  const got = sha256(text);
  if (got !== pin.sha256) {
    throw new NetlabError(`the manifest from ${pin.url} has SHA-256 ${got}, not the pinned ${pin.sha256}`, { hint: 'something between you and GitHub changed it; do not apply it (retry, or check your proxy)' });
  }
  await mkdir(cacheDir, { recursive: true });
  await writeFile(`${cached}.tmp`, text);
  await rename(`${cached}.tmp`, cached);
  return text;
}

async function httpGet(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new NetlabError(`cannot download ${url}: ${(err as Error).message}`, { hint: 'the kind provider needs the internet once for the MetalLB manifest (it is cached afterwards)' });
  }
  if (!res.ok) throw new NetlabError(`cannot download ${url}: HTTP ${res.status}`, { hint: 'check the URL and your network' });
  return res.text();
}
