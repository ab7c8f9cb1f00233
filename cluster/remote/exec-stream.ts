/**
 * Pod exec over the API's WebSocket (client-node's `Exec`: channel 1 stdout, 2 stderr, 3 the
 * final status): stdout streamed into a file as it arrives (a live pcap), or collected for short
 * commands. The status channel says how the command ended; a socket that closes without one was
 * cut (netlab stopping it on Ctrl-C, or the connection dropping).
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, type Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { NetlabError } from '../../analyzer/errors.js';

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

export interface ExecOutcome {
  /** 'exited' with the command's code, or 'cut' when the socket closed before a status came. */
  end: 'exited' | 'cut';
  exitCode: number | null;
  /** The status message for failures ("command terminated with non-zero exit code…"). */
  message: string;
  stderr: string;
}

export interface StreamingExec {
  /** Resolves when stderr first matches `readyPattern` (tcpdump's "listening on"). */
  ready: Promise<void>;
  done: Promise<ExecOutcome & { bytes: number }>;
  /** Close the socket (the remote command keeps its own deadline: see commands.ts). */
  close(): void;
}

function exitCodeOf(status: V1Status): number | null {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined && /^\d+$/.test(cause.message) ? Number(cause.message) : null;
}

const describe = (t: ExecTarget, argv: string[]) => `exec in pod ${t.namespace}/${t.pod} (${argv[0]}${argv.length > 1 ? ' …' : ''})`;

/** Turn a WebSocket handshake failure into one line that says what to check. */
function connectError(t: ExecTarget, argv: string[], err: unknown): NetlabError {
  const text = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  const forbidden = /\b403\b/.test(text);
  return new NetlabError(`${describe(t, argv)} could not start: ${text}`, {
    hint: forbidden ? 'your user needs create on pods/exec in that namespace (see docs/remote.md, RBAC)' : 'check that the pod is Running and the API server is reachable',
    cause: err,
  });
}

function startExec(kc: KubeConfig, target: ExecTarget, argv: string[], stdout: Writable, onStderr: (text: string) => void) {
  const stderr = new PassThrough();
  let stderrText = '';
  stderr.on('data', (d: Buffer) => {
    stderrText += d.toString();
    onStderr(stderrText);
  });
  let status: V1Status | null = null;
  let closeSocket: () => void = () => undefined;
  const done = new Promise<ExecOutcome>((resolve, reject) => {
    new Exec(kc)
      .exec(target.namespace, target.pod, target.container, argv, stdout, stderr, null, false, (s) => (status = s))
      .then((ws) => {
        closeSocket = () => ws.close();
        ws.on('close', () => {
          // The status (channel 3) ends stdout itself; a cut socket leaves it to us.
          if (!stdout.writableEnded) stdout.end();
          const finished = () => resolve({
            end: status ? 'exited' : 'cut',
            exitCode: status ? exitCodeOf(status) : null,
            message: status?.status === 'Failure' ? (status.message ?? '') : '',
            stderr: stderrText,
          });
          if (stdout.writableFinished) finished();
          else stdout.once('finish', finished).once('error', finished);
        });
      }, (err: unknown) => {
        stdout.destroy();
        reject(connectError(target, argv, err));
      });
  });
  return { done, close: () => closeSocket(), stderrText: () => stderrText };
}

/** Run a short command and collect its output (an `ip -j link`, the /proc scan). */
export async function execCollect(kc: KubeConfig, target: ExecTarget, argv: string[]): Promise<ExecOutcome & { stdout: string }> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (d: Buffer) => chunks.push(d));
  const outcome = await startExec(kc, target, argv, sink, () => undefined).done;
  return { ...outcome, stdout: Buffer.concat(chunks).toString() };
}

/** Stream a command's stdout into `file` while it runs (tcpdump -w -). */
export function execToFile(kc: KubeConfig, target: ExecTarget, argv: string[], file: string, readyPattern: RegExp, readyTimeoutMs = 30_000): StreamingExec {
  let markReady: () => void = () => undefined;
  const exec = startExec(kc, target, argv, createWriteStream(file), (text) => {
    if (readyPattern.test(text)) markReady();
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NetlabError(`${describe(target, argv)} did not start capturing within ${readyTimeoutMs / 1000} s: ${exec.stderrText().trim() || 'no output'}`)), readyTimeoutMs);
    markReady = () => {
      clearTimeout(timer);
      resolve();
    };
    if (readyPattern.test(exec.stderrText())) markReady();
    exec.done.then((o) => {
      clearTimeout(timer);
      reject(new NetlabError(`${describe(target, argv)} ended before capturing: ${o.stderr.trim() || o.message || 'no output'}`, { hint: 'is tcpdump in the capture image (--capture-image)? see docs/remote.md' }));
    }, (err: unknown) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  // Callers that only await `done` must not see an unhandled rejection from `ready`.
  ready.catch(() => undefined);
  return {
    ready,
    done: exec.done.then(async (o) => ({ ...o, bytes: (await stat(file)).size })),
    close: () => exec.close(),
  };
}
