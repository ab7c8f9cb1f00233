/**
 * `netlab decode FILE [--format F]`, the one command timed against tcpdump, recognised without
 * commander: loading commander and the other command tables costs more CPU than decoding a
 * 100k-packet capture. Anything else (help, unknown flags, errors) goes to commander, which prints
 * the usual messages.
 */
import type { DecodeFormat } from './commands/decode.js';

const FORMATS: readonly string[] = ['text', 'ndjson', 'summary'] satisfies DecodeFormat[];

/** The file and format of a plain decode invocation (argv after the node and script paths), else null. */
export function plainDecodeArgs(args: readonly string[]): { file: string; format: DecodeFormat } | null {
  if (args[0] !== 'decode') return null;
  let file: string | null = null;
  let format: string | null = null;
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '--format' && format === null && i + 1 < args.length) format = args[++i];
    else if (a.startsWith('--format=') && format === null) format = a.slice('--format='.length);
    else if (file === null && (a === '-' || !a.startsWith('-'))) file = a;
    else return null;
  }
  if (file === null || (format !== null && !FORMATS.includes(format))) return null;
  return { file, format: (format ?? 'text') as DecodeFormat };
}
