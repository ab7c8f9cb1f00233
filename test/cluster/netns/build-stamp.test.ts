/**
 * A lab's controller and agents keep running the code they started with. A lab made by another
 * netlab build is not silently reused: it would show that build's behaviour.
 */
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCapture } from '../../../cluster/capture/run.js';
import { buildStamp } from '../../../cluster/exec/paths.js';
import { statePath } from '../../../cluster/lab/names.js';
import { NetnsProvider } from '../../../cluster/netns/provider.js';

describe('buildStamp', () => {
  it('changes when built code changes, and only then', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stamp-'));
    try {
      await mkdir(path.join(dir, 'lab'));
      await writeFile(path.join(dir, 'lab', 'agent.js'), 'one');
      await writeFile(path.join(dir, 'notes.txt'), 'x');
      const first = await buildStamp(dir);
      expect(await buildStamp(dir)).toBe(first);
      await writeFile(path.join(dir, 'notes.txt'), 'not code');
      expect(await buildStamp(dir)).toBe(first);
      // Rebuilt unchanged: a new modification time, the same code.
      await utimes(path.join(dir, 'lab', 'agent.js'), new Date(), new Date(Date.now() + 5000));
      expect(await buildStamp(dir)).toBe(first);
      await writeFile(path.join(dir, 'lab', 'agent.js'), 'two');
      const second = await buildStamp(dir);
      expect(second).not.toBe(first);
      await writeFile(path.join(dir, 'lab', 'new.js'), '');
      expect(await buildStamp(dir)).not.toBe(second);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a lab made by another build', () => {
  const LAB = 'stampcheck';
  let runDir = '';
  const previous = process.env.NETLAB_RUN_DIR;
  beforeAll(async () => {
    runDir = await mkdtemp(path.join(os.tmpdir(), 'netlab-run-'));
    process.env.NETLAB_RUN_DIR = runDir;
    await mkdir(path.dirname(statePath(LAB)), { recursive: true });
    // A ready lab as an older netlab left it (no processes, no namespaces to look for).
    const state = {
      version: 1, name: LAB, provider: 'netns', phase: 'ready', createdAt: '2026-01-01T00:00:00.000Z', build: 'an-older-build',
      options: { nodes: 4, zones: ['a', 'b'], timeScale: 10 },
      resources: { namespaces: [], files: [], dirs: [], processes: [] },
      nodes: [], pods: [], endpoints: [], extensions: {},
    };
    await writeFile(statePath(LAB), JSON.stringify(state));
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.NETLAB_RUN_DIR;
    else process.env.NETLAB_RUN_DIR = previous;
    await rm(runDir, { recursive: true, force: true });
  });

  it('netlab up says so and what to run, and changes nothing', async () => {
    const err = await new NetnsProvider().up({ name: LAB, nodes: 4, zones: ['a', 'b'], timeScale: 10 }).then(() => null, (e: Error & { hint?: string }) => e);
    expect(err?.message).toBe(`lab '${LAB}' was made by another netlab build, whose code its controller and agents still run`);
    expect(err?.hint).toBe(`netlab down --name ${LAB}, then run this again`);
    expect((JSON.parse(await readFile(statePath(LAB), 'utf8')) as { build: string }).build).toBe('an-older-build');
  });

  it('netlab capture refuses to reuse it', async () => {
    const outDir = path.join(runDir, 'out');
    await expect(runCapture({ scenario: 'local-policy', lab: LAB, outDir })).rejects.toThrow(/made by another netlab build/);
  });
});
