import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../../../../cluster/exec/exec.js';
import { EventLineParser } from '../../../../cluster/capture/ebpf/events.js';
import { PcapngWriter } from '../../../../cluster/capture/ebpf/pcapng.js';
import { EbpfRecordFiller } from '../../../../cluster/capture/ebpf/record.js';

const tshark = await which('tshark');
const dir = mkdtempSync(path.join(tmpdir(), 'netlab-ebpf-pcapng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAMES: Record<number, string> = { 4026532177: 'client:eth0', 4026532246: 'server:eth0' };

/** Write a fixture as one pcapng with an interface per point, the way startEbpfCapture does. */
function writeFixture(fixture: string, file: string): Array<{ iface: string; dir: number; skb: number; ts: string; ipId: number; seq: number; len: number; caplen: number; origLen: number }> {
  const w = new PcapngWriter(file);
  const ids = new Map<number, number>();
  const filler = new EbpfRecordFiller();
  const expected: ReturnType<typeof writeFixture> = [];
  // 2023-11-14T22:13:20Z plus the probe's monotonic time
  const wallSec = 1_700_000_000;
  new EventLineParser(4).push(readFileSync(fixture), (ev) => {
    let id = ids.get(ev.netnsInode);
    if (id === undefined) {
      id = w.addInterface(NAMES[ev.netnsInode], `eBPF ${ev.dev}`);
      ids.set(ev.netnsInode, id);
    }
    const rec = filler.fill(ev, wallSec, 0);
    w.packet(id, rec.tsSec, rec.tsNsec, rec.bytes, rec.caplen, rec.origLen, ev.dir, ev.skb);
    expected.push({
      iface: NAMES[ev.netnsInode], dir: ev.dir, skb: ev.skb, ts: `${rec.tsSec}.${String(rec.tsNsec).padStart(9, '0')}`,
      ipId: rec.ipId, seq: rec.seq, len: rec.payloadLen, caplen: rec.caplen, origLen: rec.origLen,
    });
  });
  w.close();
  return expected;
}

function fields(file: string, names: string[], extra: string[] = []): string[][] {
  const out = execFileSync(tshark!, ['-n', '-r', file, ...extra, '-T', 'fields', '-E', 'separator=|', ...names.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  return out.trim().split('\n').map((l) => l.split('|'));
}

describe.skipIf(!tshark)('PcapngWriter, read back by tshark', () => {
  it('stores every event with its interface, direction, packet id, nanosecond time and headers', () => {
    const file = path.join(dir, 'v4.pcapng');
    const expected = writeFixture('fixtures/ebpf/probe-output.txt', file);
    const rows = fields(file, [
      'frame.interface_name', 'frame.packet_flags_direction', 'frame.packet_id', 'frame.time_epoch',
      'ip.id', 'tcp.seq_raw', 'tcp.len', 'frame.cap_len', 'frame.len', 'ip.checksum.status',
    ], ['-o', 'ip.check_checksum:TRUE']);
    expect(rows).toHaveLength(expected.length);
    rows.forEach((r, i) => {
      const e = expected[i];
      expect(r[0]).toBe(e.iface);
      expect(Number(r[1])).toBe(e.dir === 1 ? 2 : 1);
      expect(Number(r[2])).toBe(e.skb);
      expect(r[3]).toBe(e.ts);
      expect(Number(r[4])).toBe(e.ipId);
      expect(Number(r[5])).toBe(e.seq);
      expect(Number(r[6])).toBe(e.len);
      expect(Number(r[7])).toBe(e.caplen);
      expect(Number(r[8])).toBe(e.origLen);
      // Wireshark's checksum status: 0 bad, 1 good, 2 unverified
      expect(r[9]).toBe('1');
    });
  });

  it('lets Wireshark dissect the HTTP request line from the captured payload', () => {
    const file = path.join(dir, 'http.pcapng');
    writeFixture('fixtures/ebpf/probe-output.txt', file);
    const methods = fields(file, ['http.request.method', 'http.request.uri'], ['-Y', 'http.request']).map((r) => r.join(' '));
    expect(methods).toContain('GET /');
    expect(methods).toContain('POST /x');
  });

  it('writes IPv6 packets tshark decodes to the same addresses', () => {
    const file = path.join(dir, 'v6.pcapng');
    const expected = writeFixture('fixtures/ebpf/probe-output-ipv6.txt', file);
    const rows = fields(file, ['ipv6.src', 'ipv6.dst', 'tcp.len'], ['-Y', 'ipv6']);
    expect(rows.length).toBe(expected.length);
    expect(rows[0]).toEqual(['2001:db8::10', '2001:db8::1', '0']);
    expect(rows.map((r) => Number(r[2]))).toEqual(expected.map((e) => e.len));
  });
});
