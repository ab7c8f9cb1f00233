/**
 * Capture files → one time-ordered stream of observations for the correlator. Each file is read
 * in chunks through its own streaming decoder; decoded packets wait in a small per-file pool of
 * reused Observation objects, and the file whose next packet is oldest goes first (a k-way merge),
 * so memory stays at a few chunks per file however long the captures are.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { NetlabError } from '../errors.js';
import { PacketDecoder, type DecodeSummary } from '../decode/index.js';
import type { PacketRecord } from '../decode/record.js';
import { Observation } from './observation.js';

const CHUNK = 1 << 20;
export const LINKTYPE_LINUX_SLL2 = 276;

export interface SourceFile {
  /** Path to open. */
  path: string;
  /** Name used in messages. */
  label: string;
  /** Which point a packet belongs to: called on each packet (rare allocation only for new points). */
  pointOf: (rec: PacketRecord) => number;
}

export interface SourceResult {
  summary: DecodeSummary | null;
  /** The NetlabError line that stopped this file, if any. */
  error: string | null;
}

class FileReader {
  private readonly pool: Observation[] = [];
  head = 0;
  len = 0;
  done = false;
  private fd = -1;
  private readonly decoder: PacketDecoder;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  result: SourceResult = { summary: null, error: null };

  constructor(readonly src: SourceFile) {
    this.decoder = new PacketDecoder((rec) => this.take(rec), { source: src.label });
    try {
      this.fd = openSync(src.path, 'r');
    } catch (err) {
      this.fail(new NetlabError(`cannot open capture (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { where: src.label, hint: 'check the path' }));
    }
  }

  /** Decoded packets are only queued while the queue is empty (see fill), so it never wraps. */
  private take(rec: PacketRecord): void {
    if (this.len === this.pool.length) this.pool.push(new Observation());
    this.pool[this.len]!.fill(rec, this.src.pointOf(rec));
    this.len++;
  }

  private fail(err: unknown): void {
    if (!(err instanceof NetlabError)) throw err;
    this.result.error = err.oneLine();
    this.done = true;
    this.close();
  }

  private close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Make sure at least one observation is queued, unless the file is exhausted. */
  fill(): void {
    if (this.len === 0) this.head = 0;
    while (this.len === 0 && !this.done) {
      const n = readSync(this.fd, this.buf, 0, CHUNK, null);
      try {
        if (n === 0) {
          this.result.summary = this.decoder.finish();
          this.done = true;
          this.close();
        } else {
          this.decoder.push(this.buf.subarray(0, n));
        }
      } catch (err) {
        this.fail(err);
      }
    }
  }

  peek(): Observation | null {
    return this.len > 0 ? this.pool[this.head]! : null;
  }

  shift(): void {
    this.head++;
    this.len--;
  }
}

/**
 * Feed every packet of every file to `sink`, oldest first across files. Returns, per file, the
 * decoder's summary or the error that stopped it (the packets before the error are still fed).
 */
export function mergeCaptures(files: readonly SourceFile[], sink: (o: Observation) => void): SourceResult[] {
  const readers = files.map((f) => new FileReader(f));
  while (true) {
    let best: FileReader | null = null;
    let bestTime = Infinity;
    for (const r of readers) {
      r.fill();
      const o = r.peek();
      if (o && o.time < bestTime) {
        best = r;
        bestTime = o.time;
      }
    }
    if (!best) break;
    sink(best.peek()!);
    best.shift();
  }
  return readers.map((r) => r.result);
}
