/**
 * The eBPF source behind the capture command's capturer shape (`startTcpdump(targets, outDir,
 * filter)` → `{ stop(): Promise<CapturedFile[]> }`), so `netlab capture --source ebpf` swaps one
 * call. Resolves once the probe is attached; `stop` returns one captured-file entry per
 * (namespace, device) that saw packets, plus the probe's totals in `summary`.
 */
import { startEbpfCapture, type EbpfCaptureSummary } from './capture.js';
import { ebpfCapturedFiles, tracedNamespacesFor, type TargetLike } from './manifest.js';

export interface EbpfCapturerOptions {
  /** Scenario ports to keep (either side); default: every TCP/UDP packet in the traced namespaces. */
  ports?: readonly number[];
  /** Payload bytes per packet in 8-byte words (default 4). */
  payloadWords?: number;
  /** Trace namespaces created under this `ip netns` name prefix while running (the lab's `<lab>-`). */
  learnNetnsPrefix?: string;
  /** IPv4 networks a packet's source or destination must be in (the lab's ranges). */
  addresses?: readonly string[];
  /** HTTP request head bytes kept past the payload words (X-Forwarded-For at the backend). */
  requestHeadBytes?: number;
}

export interface RunningEbpfCapture<T extends TargetLike> {
  /**
   * Stop and map points to targets: those given at start plus `more` (targets planned again at
   * the end, or seen during the run, e.g. pods born mid-run), matched by `ip netns` name.
   */
  stop(more?: readonly T[]): Promise<ReturnType<typeof ebpfCapturedFiles<T>>>;
  /** Totals of the probe (events, lost, malformed, points), once stopped. */
  summary: EbpfCaptureSummary | null;
}

export async function startEbpfCapturer<T extends TargetLike>(targets: readonly T[], outDir: string, opts: EbpfCapturerOptions = {}): Promise<RunningEbpfCapture<T>> {
  const capture = await startEbpfCapture({
    namespaces: await tracedNamespacesFor(targets),
    ports: opts.ports ?? [],
    payloadWords: opts.payloadWords,
    learnNetnsPrefix: opts.learnNetnsPrefix,
    addresses: opts.addresses,
    requestHeadBytes: opts.requestHeadBytes,
    outDir,
  });
  try {
    await capture.ready;
  } catch (err) {
    await capture.stop().catch(() => undefined);
    throw err;
  }
  const running: RunningEbpfCapture<T> = {
    summary: null,
    async stop(more = []) {
      running.summary = await capture.stop();
      const known = new Set(targets.map((t) => t.netns));
      return ebpfCapturedFiles(running.summary.points, [...targets, ...more.filter((t) => !known.has(t.netns))], outDir);
    },
  };
  return running;
}
