/**
 * Files netlab runs as separate processes inside namespaces (agents, servers, clients) must be
 * the built JavaScript, also when the caller runs from TypeScript sources (tests).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetlabError } from '../../analyzer/errors.js';

/** The project's root folder (the one holding package.json), from either src or dist. */
export const PROJECT_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('netlab: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

/** A built script, e.g. `cluster/workloads/echo.js` → <root>/dist/cluster/workloads/echo.js. */
export function builtScript(rel: string): string {
  const file = path.join(PROJECT_ROOT, 'dist', rel);
  if (!existsSync(file)) throw new NetlabError(`${file} is missing`, { hint: 'run npm run build first' });
  return file;
}

/** Whether a path exists (any type), without throwing. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Identifies the built code a lab's long-running processes (controller, node and NLB agents)
 * execute: they keep the code they started with, so a lab made before `npm run build` or an
 * upgrade would show the old behaviour. The built files' names and contents (a rebuild that
 * changes nothing keeps the stamp).
 */
export async function buildStamp(root = path.join(PROJECT_ROOT, 'dist', 'cluster')): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.js')).sort();
  for (const f of files) hash.update(`${f}\0`).update(await readFile(path.join(root, f))).update('\0');
  return hash.digest('hex').slice(0, 16);
}
