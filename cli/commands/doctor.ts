import Table from 'cli-table3';
import { labReady, runChecks } from '../../cluster/doctor/checks.js';
import { kindVerdict } from '../../cluster/kind/doctor.js';

export async function run(opts: { json?: boolean }): Promise<number> {
  const results = await runChecks();
  const ready = labReady(results);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ netnsLabReady: ready, kindProvider: kindVerdict(results), checks: results }, null, 2)}\n`);
    return ready ? 0 : 2;
  }
  const table = new Table({ head: ['check', 'status', 'detail', 'without it', 'fix'], wordWrap: true, colWidths: [24, 9, 40, 34, 30], style: { head: [], border: [] } });
  for (const r of results) table.push([r.name + (r.required ? ' *' : ''), r.status, r.detail, r.status === 'ok' ? '' : r.blocks, r.fix ?? '']);
  process.stdout.write(`${table.toString()}\n* needed by the default netns lab\n`);
  process.stdout.write(ready ? 'The netns lab can run here.\n' : 'The netns lab cannot run here: fix the missing * rows above.\n');
  process.stdout.write(`${kindVerdict(results)}\n`);
  return ready ? 0 : 2;
}
