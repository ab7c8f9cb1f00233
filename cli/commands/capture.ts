import { listScenarios } from '../../cluster/scenarios/catalog.js';
import { notBuilt } from '../output.js';

export async function scenarios(opts: { json?: boolean }): Promise<number> {
  const all = listScenarios();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(all.map((s) => ({ name: s.name, summary: s.summary, expect: s.expect, dir: s.dir })), null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...all.map((s) => s.name.length));
  for (const s of all) process.stdout.write(`${s.name.padEnd(width)}  ${s.summary}\n`);
  return 0;
}

export const capture = async () => notBuilt('capture', 6);
export const compare = async () => notBuilt('compare', 6);
