import { describe, expect, it } from 'vitest';
import { parseProxyHeader, PPV2_SIGNATURE } from '../../../cluster/workloads/proxy-protocol.js';

function ppv2(command: number, src = [198, 51, 100, 10], sport = 41234, tlv?: Buffer): Buffer {
  const addr = Buffer.alloc(12);
  Buffer.from(src).copy(addr, 0);
  Buffer.from([10, 244, 1, 2]).copy(addr, 4);
  addr.writeUInt16BE(sport, 8);
  addr.writeUInt16BE(8080, 10);
  const body = tlv ? Buffer.concat([addr, tlv]) : addr;
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = 0x11;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([PPV2_SIGNATURE, head, body]);
}

describe('PROXY protocol reader', () => {
  it('reads a v2 PROXY header with TLVs and reports where the stream starts', () => {
    const tlv = Buffer.from([0xea, 0x00, 0x03, 0x61, 0x62, 0x63]);
    const hdr = ppv2(1, undefined, undefined, tlv);
    const r = parseProxyHeader(Buffer.concat([hdr, Buffer.from('GET / HTTP/1.1\r\n')]));
    expect(r).toEqual({
      kind: 'header',
      header: { version: 2, command: 'PROXY', family: 'inet', src: '198.51.100.10', dst: '10.244.1.2', sport: 41234, dport: 8080, tlvs: [{ type: 0xea, length: 3, value: '616263' }], length: hdr.length },
    });
  });

  it('treats LOCAL (health checks) as carrying no client', () => {
    const r = parseProxyHeader(ppv2(0));
    expect(r.kind === 'header' && r.header.command === 'LOCAL' && r.header.src === null).toBe(true);
  });

  it('asks for more bytes on a partial header, at every cut', () => {
    const hdr = ppv2(1);
    for (let i = 0; i < hdr.length; i++) expect(parseProxyHeader(hdr.subarray(0, i)).kind).toBe('need-more');
  });

  it('reads v1 text headers and says what is malformed', () => {
    const r = parseProxyHeader(Buffer.from('PROXY TCP4 198.51.100.10 10.244.1.2 41234 8080\r\nGET /'));
    expect(r.kind === 'header' && r.header).toMatchObject({ version: 1, src: '198.51.100.10', sport: 41234, length: 48 });
    expect(parseProxyHeader(Buffer.from('PROXY FOO\r\n')).kind).toBe('malformed');
    const bad = ppv2(1);
    bad[12] = 0x31;
    expect(parseProxyHeader(bad)).toEqual({ kind: 'malformed', reason: 'PPv2 version nibble 3 at byte 12' });
    expect(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')).kind).toBe('none');
  });
});
