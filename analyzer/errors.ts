/**
 * The one error type netlab's layers throw for problems a user can act on. The CLI prints
 * `message` as one line (plus `hint`) and exits with `exitCode`; nothing else prints errors.
 */
export class NetlabError extends Error {
  /** 1 = usage error, 2 = an input or environment that cannot be used. */
  readonly exitCode: 1 | 2;
  /** Where: a file:line, a byte offset, a command. */
  readonly where: string | undefined;
  /** What to do about it. */
  readonly hint: string | undefined;

  constructor(message: string, opts: { where?: string; hint?: string; exitCode?: 1 | 2; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NetlabError';
    this.exitCode = opts.exitCode ?? 2;
    this.where = opts.where;
    this.hint = opts.hint;
  }

  /** The single line the CLI prints. */
  oneLine(): string {
    const parts = [this.where ? `${this.where}: ${this.message}` : this.message];
    if (this.hint) parts.push(this.hint);
    return parts.join(' — ');
  }
}

export class UsageError extends NetlabError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 1, hint });
    this.name = 'UsageError';
  }
}
