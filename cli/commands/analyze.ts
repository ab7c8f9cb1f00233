/** `netlab analyze DIR | NAME=FILE... [--json|--markdown]` */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { analyze, type AnalyzeInput } from '../../analyzer/analyze.js';
import { UsageError } from '../../analyzer/errors.js';
import type { Warning } from '../../analyzer/hops/types.js';
import { toContractJson } from '../../analyzer/report/json.js';
import { renderMarkdown, renderText } from '../../analyzer/report/table.js';

export interface AnalyzeCliOptions {
  json?: boolean;
  markdown?: boolean;
  html?: string;
  pcapng?: string;
}

/** argv inputs → AnalyzeInput: one folder, or NAME=FILE pairs (a bare FILE is named after itself). */
export function parseInputs(inputs: readonly string[]): AnalyzeInput {
  if (inputs.length === 1 && !inputs[0]!.includes('=') && existsSync(inputs[0]!) && statSync(inputs[0]!).isDirectory()) {
    return { dir: inputs[0]! };
  }
  const pairs = inputs.map((arg) => {
    const eq = arg.indexOf('=');
    if (eq === 0) throw new UsageError(`"${arg}" has no point name before "="`, 'write NAME=FILE, e.g. client=client.pcap');
    if (eq > 0) return { name: arg.slice(0, eq), file: arg.slice(eq + 1) };
    if (existsSync(arg) && statSync(arg).isDirectory()) throw new UsageError(`"${arg}" is a folder: give one folder alone, or only NAME=FILE pairs`);
    return { name: path.basename(arg).replace(/\.(pcap|pcapng|cap)$/i, ''), file: arg };
  });
  const seen = new Set<string>();
  for (const p of pairs) {
    if (seen.has(p.name)) throw new UsageError(`point name "${p.name}" is given twice`, 'name each capture differently: NAME=FILE');
    seen.add(p.name);
  }
  return { pairs };
}

function warningLine(w: Warning): string {
  return `netlab: ${w.severity === 'unusable' ? 'warning' : 'note'}: ${w.where ? `${w.where}: ` : ''}${w.message}${w.hint ? ` — ${w.hint}` : ''}\n`;
}

export async function run(inputs: string[], opts: AnalyzeCliOptions): Promise<number> {
  if (opts.json && opts.markdown) throw new UsageError('--json and --markdown exclude each other', 'pick one output format');
  if (opts.html || opts.pcapng) {
    throw new UsageError(`${opts.html ? '--html' : '--pcapng'} is not built yet (the report stage writes it from analyze() + annotate())`, 'run without it');
  }
  const result = await analyze(parseInputs(inputs));
  if (opts.json) process.stdout.write(`${JSON.stringify(toContractJson(result), null, 2)}\n`);
  else if (opts.markdown) process.stdout.write(renderMarkdown(result));
  else process.stdout.write(renderText(result));
  for (const w of result.warnings) process.stderr.write(warningLine(w));
  return result.warnings.some((w) => w.severity === 'unusable') ? 2 : 0;
}
