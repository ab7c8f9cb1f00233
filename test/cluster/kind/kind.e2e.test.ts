/**
 * End to end on a real kind cluster: `local-policy` and `ip-mode-ppv2` through
 * `runCapture({ provider: 'kind' })`, judged by the same lesson checks as the netns e2e. Runs only
 * where a Docker engine answers and kind is installed (never on netlab's own machines, which
 * have neither a registry nor kind); otherwise it prints why and is reported as skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from '../../../cluster/capture/run.js';
import { run } from '../../../cluster/exec/exec.js';
import { defaultKindEnv } from '../../../cluster/kind/env.js';
import { KindProvider } from '../../../cluster/kind/provider.js';

async function whyNot(): Promise<string | null> {
  const docker = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => null);
  if (!docker || docker.exitCode !== 0) return `docker info failed (${(docker?.stderr || 'docker not installed').trim().split('\n').at(-1)})`;
  const kind = await run(process.env.NETLAB_KIND_BIN ?? 'kind', ['version'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => null);
  if (!kind || kind.exitCode !== 0) return 'kind version failed (kind is not installed)';
  return null;
}

const reason = await whyNot();
if (reason) process.stdout.write(`kind e2e skipped: ${reason}\n`);

const lab = `k${randomBytes(3).toString('hex')}`;
const out = mkdtempSync(path.join(tmpdir(), 'netlab-kind-e2e-'));

describe.skipIf(reason !== null)('netlab capture --provider kind (real kind cluster)', () => {
  afterAll(async () => {
    await new KindProvider(defaultKindEnv()).down(lab);
    rmSync(out, { recursive: true, force: true });
  }, 600_000);

  for (const scenario of ['local-policy', 'ip-mode-ppv2']) {
    it(`${scenario}: the packets show the lesson`, async () => {
      const r = await runCapture({ scenario, lab, provider: 'kind', requests: 50, outDir: path.join(out, scenario), onProgress: (m) => process.stdout.write(`  ${scenario}: ${m}\n`) });
      const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what}: expected ${c.expected}, saw ${c.seen}`);
      expect(failed).toEqual([]);
      expect(r.requests.answered).toBe(r.requests.sent);
      if (scenario === 'local-policy') expect(Object.keys(r.requests.clientAddresses)).toEqual(['198.51.100.10']);
      else expect(r.report.summary.clientIpAtBackend.ppv2).toBeGreaterThanOrEqual(49);
    }, 1_200_000);
  }
});
