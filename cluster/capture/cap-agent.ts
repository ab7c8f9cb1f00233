/**
 * The libpcap capture agent, run INSIDE one network namespace (`ip netns exec NS node cap-agent.js`):
 * opens each named interface through the `cap` binding and writes one nanosecond pcap per
 * interface. Prints `READY` once every interface is open, and on SIGINT/SIGTERM flushes, prints
 * `STATS {json}` and exits. The binding exposes neither libpcap's packet timestamps nor its drop
 * counter, so timestamps are taken in user space at delivery and drops are reported as unknown.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const LINKTYPES: Record<string, number> = { ETHERNET: 1, NULL: 0, RAW: 101, LINKTYPE_LINUX_SLL: 113 };
const FLUSH_AT = 1 << 20;
const SNAPLEN = 262144;

interface Writer {
  iface: string;
  file: string;
  fd: number;
  chunk: Buffer;
  used: number;
  packets: number;
  linktype: number;
}

function pcapHeader(linktype: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b23c4d, 0); // nanosecond-resolution pcap
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(SNAPLEN, 16);
  h.writeUInt32LE(linktype, 20);
  return h;
}

function flush(w: Writer): void {
  if (w.used > 0) writeSync(w.fd, w.chunk, 0, w.used);
  w.used = 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, prefix: { type: 'string' }, 'epoch-base-ns': { type: 'string' }, filter: { type: 'string', default: '' }, if: { type: 'string', multiple: true } },
  });
  if (!values.out || !values.prefix || !values.if?.length) throw new Error('usage: cap-agent --out DIR --prefix NAME --if IFACE [--if IFACE...] [--filter BPF]');
  const { Cap } = (await import('cap')).default;
  // Every agent adds the SAME base (computed once by the parent) to the machine-wide monotonic
  // clock, so timestamps from agents in different namespaces compare to the microsecond.
  const epochBaseNs = values['epoch-base-ns'] ? BigInt(values['epoch-base-ns']) : BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  const writers: Writer[] = [];
  const caps: InstanceType<typeof Cap>[] = [];
  for (const iface of values.if) {
    const cap = new Cap();
    const buffer = Buffer.alloc(65535);
    const linkName = cap.open(iface, values.filter ?? '', 16 * 1024 * 1024, buffer);
    const linktype = LINKTYPES[linkName];
    if (linktype === undefined) throw new Error(`${iface}: unsupported link type ${linkName}`);
    const file = path.join(values.out, `${values.prefix}_${iface}.pcap`);
    const fd = openSync(file, 'w');
    writeSync(fd, pcapHeader(linktype));
    const w: Writer = { iface, file, fd, chunk: Buffer.allocUnsafe(FLUSH_AT + 65535 + 16), used: 0, packets: 0, linktype };
    cap.setMinBytes?.(0);
    cap.on('packet', (nbytes: number) => {
      const ts = epochBaseNs + process.hrtime.bigint();
      const c = w.chunk;
      let o = w.used;
      c.writeUInt32LE(Number(ts / 1_000_000_000n), o);
      c.writeUInt32LE(Number(ts % 1_000_000_000n), o + 4);
      c.writeUInt32LE(nbytes, o + 8);
      c.writeUInt32LE(nbytes, o + 12);
      o += 16;
      buffer.copy(c, o, 0, nbytes);
      w.used = o + nbytes;
      w.packets++;
      if (w.used >= FLUSH_AT) flush(w);
    });
    writers.push(w);
    caps.push(cap);
  }
  // Flush at least every 200 ms so a reader following the files sees packets promptly.
  const ticker = setInterval(() => writers.forEach(flush), 200);
  process.stdout.write('READY\n');
  const stop = () => {
    clearInterval(ticker);
    for (const c of caps) c.close();
    for (const w of writers) {
      flush(w);
      closeSync(w.fd);
    }
    const stats = writers.map((w) => ({ interface: w.iface, file: w.file, linktype: w.linktype, packets: w.packets }));
    process.stdout.write(`STATS ${JSON.stringify(stats)}\n`);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`cap-agent: ${err.message}\n`);
  process.exit(2);
});
