import { describe, expect, it } from 'vitest';
import { parseHttp } from '../../../analyzer/decode/http.js';
import { newPacketRecord } from '../../../analyzer/decode/context.js';

const text = (b: Uint8Array, off: number, len: number) => (off < 0 ? null : Buffer.from(b.subarray(off, off + len)).toString('latin1'));

function parse(s: string) {
  const b = new Uint8Array(Buffer.from(s, 'latin1'));
  const h = newPacketRecord().http;
  const ok = parseHttp(b, 0, b.length, h);
  return { ok, method: text(b, h.methodOff, h.methodLen), path: text(b, h.pathOff, h.pathLen), status: h.status, host: text(b, h.hostOff, h.hostLen), xff: text(b, h.xffOff, h.xffLen), xRealIp: text(b, h.xRealIpOff, h.xRealIpLen), client: text(b, h.clientAddrOff, h.clientAddrLen) };
}

describe('parseHttp', () => {
  it('reads a request line and the headers netlab cares about, case-insensitively, trimmed', () => {
    expect(parse('POST /api?q=1 HTTP/1.0\r\nhOsT:  a.example \r\nx-forwarded-for: 198.51.100.10, 10.0.0.1\r\nX-REAL-IP:\t198.51.100.10\r\n\r\nbody')).toEqual({
      ok: true, method: 'POST', path: '/api?q=1', status: -1, host: 'a.example', xff: '198.51.100.10, 10.0.0.1', xRealIp: '198.51.100.10', client: null,
    });
  });

  it('reads a response status and the echo server client_address in its three spellings', () => {
    expect(parse('HTTP/1.1 200 OK\r\n\r\nRequest Information:\n\tclient_address=10.244.1.1\n')).toMatchObject({ ok: true, status: 200, client: '10.244.1.1' });
    expect(parse('HTTP/1.1 200 OK\r\n\r\nclient_address: 2001:db8::10\n')).toMatchObject({ client: '2001:db8::10' });
    expect(parse('HTTP/1.1 503 Service Unavailable\r\n\r\n{"client_address":"172.18.0.3"}')).toMatchObject({ status: 503, client: '172.18.0.3' });
  });

  it('finds line ends and client_address wherever they fall against the 4-byte scan and the search stride', () => {
    // Shift everything by 0..7 bytes inside a larger buffer with a non-zero byteOffset, so every LF
    // lands in each lane of the word scan, and near-misses precede the real client_address.
    const msg = 'HTTP/1.1 200 OK\r\nX: client_addres\r\nHost: h\n\nclient_addres s client-address clientaddress client_address=198.51.100.7 client_address=9.9.9.9';
    for (let shift = 0; shift < 8; shift++) {
      const backing = new Uint8Array(64 + shift + msg.length + 5).fill(0x0a);
      const b = backing.subarray(3);
      b.set(Buffer.from(msg, 'latin1'), shift);
      const h = newPacketRecord().http;
      expect(parseHttp(b, shift, shift + msg.length, h), `shift ${shift}`).toBe(true);
      expect(text(b, h.hostOff, h.hostLen)).toBe('h');
      expect(text(b, h.clientAddrOff, h.clientAddrLen)).toBe('198.51.100.7');
    }
    expect(parse('HTTP/1.1 200 OK\r\n\r\nclient_address').client).toBeNull();
  });

  it('says no to what is not HTTP/1.x', () => {
    for (const s of ['GET / SPDY/3\r\n', 'get / HTTP/1.1\r\n', 'HTTP/2 200\r\n', 'HTTP/1.1 2xx OK\r\n', 'VERYLONGMETHODNAME / HTTP/1.1\r\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n', 'GET']) {
      expect(parse(s).ok, s).toBe(false);
    }
  });
});
