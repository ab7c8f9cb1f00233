/** The only place errors are printed. */
import { NetlabError } from '../analyzer/errors.js';

export function printError(err: unknown, verbose: boolean): number {
  if (err instanceof NetlabError) {
    process.stderr.write(`netlab: ${err.oneLine()}\n`);
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`netlab: internal error: ${message.split('\n')[0]} (this is a bug; rerun with --verbose for the stack)\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 2;
}

/** For commands whose issue has not landed yet: say so plainly, exit 2. */
export function notBuilt(command: string, issue: number): never {
  throw new NetlabError(`'netlab ${command}' is not built yet (issue #${issue})`, {
    hint: 'see README.md for what works today',
  });
}
