/** `netlab decode FILE|- --format text|ndjson|summary` */
import { decodeFile, formatText, recordToContract, type DecodeSummary, type PacketRecord } from '../../analyzer/decode/index.js';

export type DecodeFormat = 'text' | 'ndjson' | 'summary';

/** Lines are batched: one write per ~64 KiB instead of one per packet. */
const FLUSH_AT = 64 * 1024;

class OutputClosed extends Error {}

export async function run(file: string, opts: { format?: DecodeFormat }): Promise<number> {
  const format = opts.format ?? 'text';
  let pending = '';
  let closed = false;
  // `netlab decode big.pcap | head` closes the pipe early: stop quietly, that is not an error.
  const onError = (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') closed = true; else throw err; };
  process.stdout.on('error', onError);
  const flush = () => {
    if (pending === '') return;
    process.stdout.write(pending);
    pending = '';
    if (closed) throw new OutputClosed();
  };
  let onPacket: (rec: PacketRecord) => void;
  if (format === 'summary') onPacket = () => undefined;
  else if (format === 'ndjson') onPacket = (rec) => { pending += `${JSON.stringify(recordToContract(rec))}\n`; if (pending.length >= FLUSH_AT) flush(); };
  else onPacket = (rec) => { pending += `${rec.n} ${formatText(rec)}\n`; if (pending.length >= FLUSH_AT) flush(); };
  try {
    const summary = await decodeFile(file, onPacket);
    if (format === 'summary') pending = summaryText(file, summary);
    flush();
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    flush();
    throw err;
  } finally {
    process.stdout.off('error', onError);
  }
  return 0;
}

const list = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || '-';

/** capinfos-like counts. */
export function summaryText(file: string, s: DecodeSummary): string {
  const rows: [string, string][] = [
    ['file', file === '-' ? 'stdin' : file],
    ['container', s.container ?? '-'],
    ['packets', String(s.packets)],
    ['captured bytes', String(s.bytes)],
    ['input bytes', String(s.inputBytes)],
    ['first packet', s.firstTs ?? '-'],
    ['last packet', s.lastTs ?? '-'],
    ['link types', list(s.linktypes)],
    ['protocols', list(s.protocols)],
    ['PROXY headers', String(s.ppv2Headers)],
    ['HTTP messages', String(s.http)],
    ['malformed', Object.entries(s.malformed).map(([k, v]) => `${k} ${v.count} (first at byte ${v.firstOffset})`).join(', ') || 'none'],
  ];
  for (const i of s.interfaces) {
    const name = i.name ?? '-';
    rows.push([`interface ${i.section}/${i.id}`, `${name} link type ${i.linktype}${i.description ? ` (${i.description})` : ''}, ${i.tsresolNs} ns per tick`]);
  }
  return rows.map(([k, v]) => `${`${k}:`.padEnd(17)}${v}`).join('\n') + '\n';
}
