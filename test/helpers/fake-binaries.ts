/**
 * Fake executables on PATH for code that shells out (kind, docker): each is a small Node script
 * written into a temp folder that appends its argv to a log and answers by the first rule whose
 * argv prefix matches ('*' matches any one argument). They stand in for the real tools where none
 * can run here; the tests check the commands netlab runs and how it reacts to their answers.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface FakeRule {
  args: string[];
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Write `content` to the file named by the argument after `flag` (kind --kubeconfig does). */
  writeFileAfter?: { flag: string; content: string };
  /** Bytes (base64) written to stdout, then wait for SIGINT/SIGTERM and print `stderrOnStop` (a capture). */
  streamBase64?: string;
  stderrOnStop?: string;
  /** Record this process's pid under the name given after `flag` (as a container name is). */
  pidNameAfter?: string;
  /** Send SIGINT to the process recorded under the name that is the last argument (`docker kill … NAME`). */
  interruptLastArg?: boolean;
}

export interface FakeCall {
  bin: string;
  argv: string[];
}

export class FakeBinaries {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'netlab-fakebin-'));
  private readonly log = path.join(this.dir, 'calls.ndjson');
  private readonly savedPath = process.env.PATH;

  /** Install `name` answering by `rules` (later calls replace the rules; the log is kept). */
  install(name: string, rules: FakeRule[]): void {
    writeFileSync(path.join(this.dir, `${name}.rules.json`), JSON.stringify(rules));
    const script = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(this.log)}, JSON.stringify({ bin: ${JSON.stringify(name)}, argv }) + '\\n');
const rules = JSON.parse(fs.readFileSync(${JSON.stringify(path.join(this.dir, `${name}.rules.json`))}, 'utf8'));
const rule = rules.find((r) => r.args.every((a, i) => a === '*' || argv[i] === a));
if (!rule) { process.stderr.write('fake ${name}: no rule for ' + argv.join(' ') + '\\n'); process.exit(97); }
if (rule.writeFileAfter) {
  const i = argv.indexOf(rule.writeFileAfter.flag);
  if (i >= 0) fs.writeFileSync(argv[i + 1], rule.writeFileAfter.content);
}
if (rule.pidNameAfter) {
  const i = argv.indexOf(rule.pidNameAfter);
  if (i >= 0) fs.writeFileSync(path.join(${JSON.stringify(this.dir)}, argv[i + 1] + '.pid'), String(process.pid));
}
if (rule.interruptLastArg) {
  try { process.kill(Number(fs.readFileSync(path.join(${JSON.stringify(this.dir)}, argv[argv.length - 1] + '.pid'), 'utf8')), 'SIGINT'); } catch { process.exitCode = 1; }
}
if (rule.stdout) process.stdout.write(rule.stdout);
if (rule.stderr) process.stderr.write(rule.stderr);
if (rule.streamBase64 !== undefined) {
  process.stdout.write(Buffer.from(rule.streamBase64, 'base64'));
  const stop = () => { if (rule.stderrOnStop) process.stderr.write(rule.stderrOnStop); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  setInterval(() => {}, 1 << 30);
} else {
  process.exitCode = rule.exitCode ?? 0;
}
`;
    const file = path.join(this.dir, name);
    writeFileSync(file, script);
    chmodSync(file, 0o755);
  }

  /** Put the fakes first on PATH (restored by `cleanup`). */
  activate(): void {
    process.env.PATH = `${this.dir}:${this.savedPath ?? ''}`;
  }

  calls(bin?: string): FakeCall[] {
    let text = '';
    try {
      text = readFileSync(this.log, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeCall).filter((c) => !bin || c.bin === bin);
  }

  /** The calls as one line each, `bin arg arg …`, for readable assertions. */
  lines(bin?: string): string[] {
    return this.calls(bin).map((c) => [c.bin, ...c.argv].join(' '));
  }

  clearLog(): void {
    rmSync(this.log, { force: true });
  }

  cleanup(): void {
    process.env.PATH = this.savedPath;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
