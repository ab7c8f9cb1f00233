/** The three ways in (file, stdin, stream) give the same records; errors name the input. */
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { decodeFile, decodeStream, PacketDecoder, recordToContract } from '../../../analyzer/decode/index.js';

const FILE = 'fixtures/decode/proxy-protocol.pcap';

async function viaFile(path: string) {
  const lines: string[] = [];
  const summary = await decodeFile(path, (rec) => lines.push(JSON.stringify(recordToContract(rec))));
  return { lines, summary };
}

describe('decodeFile / decodeStream', () => {
  it('file, push() and a stream of tiny chunks agree', async () => {
    const a = await viaFile(FILE);
    const b: string[] = [];
    const dec = new PacketDecoder((rec) => b.push(JSON.stringify(recordToContract(rec))));
    dec.push(readFileSync(FILE));
    dec.finish();
    const c: string[] = [];
    const summary = await decodeStream(createReadStream(FILE, { highWaterMark: 7 }), (rec) => c.push(JSON.stringify(recordToContract(rec))));
    expect(a.lines.length).toBe(13);
    expect(b).toEqual(a.lines);
    expect(c).toEqual(a.lines);
    expect(summary.ppv2Headers).toBe(a.summary.ppv2Headers);
  });

  it('honours backpressure: a stream is pulled as it is decoded, not read ahead', async () => {
    const one = readFileSync('fixtures/decode/ethernet-le-usec.pcap');
    const records = one.subarray(24);
    const copies = 400;
    const bytes = Buffer.concat([one.subarray(0, 24), ...new Array<Buffer>(copies).fill(records)]);
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    const stream = new Readable({
      highWaterMark: 1024,
      read() {
        if (produced >= bytes.length) { this.push(null); return; }
        const chunk = bytes.subarray(produced, produced + 1024);
        produced += chunk.length;
        maxAhead = Math.max(maxAhead, produced - consumed);
        this.push(chunk);
      },
    });
    const summary = await decodeStream(stream, (rec) => { consumed = rec.fileOffset; });
    expect(summary.packets).toBe(25 * copies);
    expect(bytes.length).toBeGreaterThan(400_000);
    // The producer never runs more than a few chunks ahead of the decoder.
    expect(maxAhead).toBeLessThan(16 * 1024);
  });

  it('rejects a text stream and a missing file with one line', async () => {
    await expect(decodeStream(Readable.from(['not bytes']), () => undefined)).rejects.toThrow(NetlabError);
    await expect(decodeFile('/nonexistent/x.pcap', () => undefined)).rejects.toThrow(/cannot open capture: no such file/);
    await expect(decodeFile('fixtures', () => undefined)).rejects.toThrow(/folder/);
  });

  it("reads '-' from a stdin pipe the same as the file", () => {
    const script = `import { decodeFile } from './dist/analyzer/decode/index.js';
      const s = await decodeFile('-', () => {}); console.log(JSON.stringify([s.packets, s.ppv2Headers, s.http]));`;
    const fromPipe = spawnSync('node', ['--input-type=module', '-e', script], { input: readFileSync(FILE), encoding: 'utf8' });
    expect(fromPipe.stderr).toBe('');
    expect(JSON.parse(fromPipe.stdout)).toEqual([13, 11, 7]);
  });
});
