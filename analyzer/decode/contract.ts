/**
 * Output shapes: the CONTRACT.md NDJSON object and a tcpdump-like text line. Both allocate; they
 * are for printing, not for the hot loop.
 */
import { formatTs } from './decoder.js';
import { ipv4ToString, ipv6ToString } from './ip-text.js';
import { L3, PROTO, TCP_FLAG, type L34Fields, type PacketRecord, type Ppv2Record } from './record.js';

const latin1 = new TextDecoder('latin1');

function text(b: Uint8Array, off: number, len: number): string | null {
  return off < 0 ? null : latin1.decode(b.subarray(off, off + len));
}

function hex(b: Uint8Array, off: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + off, len).toString('hex');
}

const l3Name = (l3: number): string | null =>
  l3 === L3.IPV4 ? 'ipv4' : l3 === L3.IPV6 ? 'ipv6' : l3 === L3.ARP ? 'arp' : l3 === L3.OTHER ? 'other' : null;

function protoName(p: number): string | null {
  if (p === PROTO.NONE) return null;
  if (p === PROTO.TCP) return 'tcp';
  if (p === PROTO.UDP) return 'udp';
  if (p === PROTO.ICMP) return 'icmp';
  if (p === PROTO.ICMPV6) return 'icmpv6';
  return 'other';
}

/** tcpdump's flag letters in tcpdump's order; ACK is "."; no flags is "none". */
export function tcpFlagsText(flags: number): string {
  if (flags < 0) return '';
  let s = '';
  if (flags & TCP_FLAG.FIN) s += 'F';
  if (flags & TCP_FLAG.SYN) s += 'S';
  if (flags & TCP_FLAG.RST) s += 'R';
  if (flags & TCP_FLAG.PSH) s += 'P';
  if (flags & TCP_FLAG.ACK) s += '.';
  if (flags & TCP_FLAG.URG) s += 'U';
  if (flags & TCP_FLAG.ECE) s += 'E';
  if (flags & TCP_FLAG.CWR) s += 'W';
  return s === '' ? 'none' : s;
}

function addr(f: L34Fields, which: 'src' | 'dst'): string | null {
  if (f.l3 === L3.IPV4 || f.l3 === L3.ARP) return ipv4ToString(which === 'src' ? f.src4 : f.dst4);
  if (f.l3 === L3.IPV6) return ipv6ToString(which === 'src' ? f.src6 : f.dst6);
  return null;
}

const orNull = (v: number): number | null => (v < 0 ? null : v);

/** The L3/L4 part shared by the packet and its `inner` / `icmpQuoted` packets. */
function l34(f: L34Fields) {
  const isTcp = f.proto === PROTO.TCP && f.l3 !== L3.ARP;
  const hasAck = isTcp && f.tcpFlags >= 0 && (f.tcpFlags & TCP_FLAG.ACK) !== 0;
  return {
    l3: l3Name(f.l3),
    src: addr(f, 'src'),
    dst: addr(f, 'dst'),
    proto: f.l3 === L3.IPV4 || f.l3 === L3.IPV6 ? protoName(f.proto) : null,
    sport: orNull(f.sport),
    dport: orNull(f.dport),
    ipId: orNull(f.ipId),
    ttl: orNull(f.ttl),
    seq: isTcp ? orNull(f.seq) : null,
    ack: hasAck ? f.ack : null,
    flags: isTcp && f.tcpFlags >= 0 ? tcpFlagsText(f.tcpFlags) : null,
    payloadLen: orNull(f.payloadLen),
  };
}

function ppv2Object(p: Ppv2Record) {
  const tlvs: { type: number; length: number; value: string }[] = [];
  for (let t = p.tlvOffset, end = p.tlvOffset + p.tlvLen; p.tlvOffset >= 0 && t + 3 <= end; ) {
    const length = (p.buf[t + 1] << 8) | p.buf[t + 2];
    if (t + 3 + length > end) break; // cut by the snap length
    tlvs.push({ type: p.buf[t], length, value: hex(p.buf, t + 3, length) });
    t += 3 + length;
  }
  const v4 = p.family === 'inet';
  const v6 = p.family === 'inet6';
  return {
    version: p.version,
    command: p.command === 0 ? 'LOCAL' : 'PROXY',
    family: p.family,
    src: v4 ? ipv4ToString(p.src4) : v6 ? ipv6ToString(p.src6) : null,
    dst: v4 ? ipv4ToString(p.dst4) : v6 ? ipv6ToString(p.dst6) : null,
    sport: orNull(p.sport),
    dport: orNull(p.dport),
    tlvs,
    headerLen: p.headerLen,
    crc32c: p.crcOk < 0 ? null : p.crcOk === 1 ? 'ok' : 'bad',
    awsVpceId: text(p.buf, p.awsVpceOffset, p.awsVpceLen),
    reassembled: p.reassembled,
    truncated: p.truncated,
  };
}

export interface ContractOptions {
  /** Add the decoder's extra fields (interface, vlan, tcp options, http, icmp) beyond CONTRACT.md. */
  extras?: boolean;
}

/** The CONTRACT.md `netlab decode --format ndjson` object for the current packet (allocates). */
export function recordToContract(rec: PacketRecord, opts: ContractOptions = {}): Record<string, unknown> {
  const base = l34(rec);
  const out: Record<string, unknown> = {
    n: rec.n,
    ts: formatTs(rec.tsSec, rec.tsNsec),
    linktype: rec.linktype,
    ifindex: orNull(rec.ifindex),
    ...base,
    ppv2: rec.ppv2.present ? ppv2Object(rec.ppv2) : null,
    inner: rec.tunnel !== null ? { tunnel: rec.tunnel, vni: orNull(rec.vni), ...l34(rec.inner) } : null,
    error: rec.error,
  };
  if (opts.extras !== false) {
    const h = rec.http;
    const b = rec.bytes;
    out.interfaceId = rec.interfaceId;
    out.pktType = orNull(rec.pktType);
    out.caplen = rec.caplen;
    out.origLen = rec.origLen;
    out.vlan = orNull(rec.vlan);
    out.fragment = rec.fragment;
    out.arpOp = orNull(rec.arpOp);
    out.icmp = rec.icmpType >= 0 ? { type: rec.icmpType, code: rec.icmpCode, quoted: rec.quoted.l3 === L3.NONE ? null : l34(rec.quoted) } : null;
    out.tcp = rec.proto === PROTO.TCP && rec.tcpFlags >= 0
      ? { window: rec.window, mss: orNull(rec.mss), wscale: orNull(rec.wscale), tsval: orNull(rec.tsval), tsecr: orNull(rec.tsecr) }
      : null;
    out.http = h.present
      ? {
          request: h.isRequest,
          method: text(b, h.methodOff, h.methodLen),
          path: text(b, h.pathOff, h.pathLen),
          status: orNull(h.status),
          host: text(b, h.hostOff, h.hostLen),
          xForwardedFor: text(b, h.xffOff, h.xffLen),
          xRealIp: text(b, h.xRealIpOff, h.xRealIpLen),
          clientAddress: text(b, h.clientAddrOff, h.clientAddrLen),
        }
      : null;
  }
  return out;
}

function endpoint(f: L34Fields, which: 'src' | 'dst'): string {
  const a = addr(f, which) ?? '?';
  const port = which === 'src' ? f.sport : f.dport;
  return port >= 0 ? `${a}.${port}` : a;
}

function l34Text(f: L34Fields, rec: PacketRecord | null): string {
  const family = f.l3 === L3.IPV6 ? 'IP6' : 'IP';
  const head = `${family} ${endpoint(f, 'src')} > ${endpoint(f, 'dst')}`;
  if (f.proto === PROTO.TCP && f.tcpFlags >= 0) {
    let s = `${head}: Flags [${tcpFlagsText(f.tcpFlags)}], seq ${f.seq}`;
    if (f.tcpFlags & TCP_FLAG.ACK) s += `, ack ${f.ack}`;
    s += `, win ${f.window}`;
    const opts: string[] = [];
    if (f.mss >= 0) opts.push(`mss ${f.mss}`);
    if (f.wscale >= 0) opts.push(`wscale ${f.wscale}`);
    if (f.tsval >= 0) opts.push(`TS val ${f.tsval} ecr ${f.tsecr}`);
    if (opts.length > 0) s += `, options [${opts.join(',')}]`;
    return f.payloadLen >= 0 ? `${s}, length ${f.payloadLen}` : s;
  }
  if (f.proto === PROTO.TCP && f.seq >= 0) return `${head}: TCP seq ${f.seq}`;
  if (f.proto === PROTO.UDP && f.sport >= 0) return `${head}: UDP${f.payloadLen >= 0 ? `, length ${f.payloadLen}` : ''}`;
  if ((f.proto === PROTO.ICMP || f.proto === PROTO.ICMPV6) && f.icmpType >= 0) {
    let s = `${head}: ${f.proto === PROTO.ICMP ? 'ICMP' : 'ICMP6'} type ${f.icmpType} code ${f.icmpCode}`;
    if (rec !== null && rec.quoted.l3 !== L3.NONE) s += ` [quoting ${l34Text(rec.quoted, null)}]`;
    return s;
  }
  return `${head}: proto ${f.proto}${f.fragment ? ' (fragment)' : ''}`;
}

/** One tcpdump-like line for the current packet (allocates). */
export function formatText(rec: PacketRecord): string {
  const parts: string[] = [formatTs(rec.tsSec, rec.tsNsec)];
  if (rec.ifindex >= 0) parts.push(`if${rec.ifindex}${rec.pktType === 4 ? ' Out' : rec.pktType >= 0 ? ' In' : ''}`);
  if (rec.vlan >= 0) parts.push(`vlan ${rec.vlan}`);
  if (rec.l3 === L3.ARP) {
    const op = rec.arpOp;
    parts.push(op === 1 ? `ARP who-has ${ipv4ToString(rec.dst4)} tell ${ipv4ToString(rec.src4)}`
      : op === 2 ? `ARP reply ${ipv4ToString(rec.src4)} is-at (to ${ipv4ToString(rec.dst4)})`
        : `ARP op ${op} ${ipv4ToString(rec.src4)} > ${ipv4ToString(rec.dst4)}`);
  } else if (rec.l3 === L3.IPV4 || rec.l3 === L3.IPV6) {
    parts.push(l34Text(rec, rec));
  } else if (rec.l3 === L3.OTHER) {
    parts.push(`link type ${rec.linktype}: not IP or ARP, ${rec.caplen} bytes`);
  }
  if (rec.tunnel !== null) parts.push(`| ${rec.tunnel}${rec.vni >= 0 ? ` vni ${rec.vni}` : ''}: ${rec.inner.l3 === L3.NONE ? '?' : l34Text(rec.inner, null)}`);
  const p = rec.ppv2;
  if (p.present) {
    const o = ppv2Object(p);
    const who = o.src === null ? o.family : `${o.src}:${o.sport} > ${o.dst}:${o.dport}`;
    parts.push(`| PROXY v${o.version} ${o.command} ${who}${o.tlvs.length ? ` tlvs ${o.tlvs.map((t) => `0x${t.type.toString(16)}`).join(',')}` : ''}${o.crc32c ? ` crc32c ${o.crc32c}` : ''}${o.awsVpceId ? ` vpce ${o.awsVpceId}` : ''}`);
  }
  const h = rec.http;
  if (h.present) {
    const b = rec.bytes;
    let s = h.isRequest ? `| HTTP ${text(b, h.methodOff, h.methodLen)} ${text(b, h.pathOff, h.pathLen)}` : `| HTTP ${h.status}`;
    if (h.hostOff >= 0) s += ` Host: ${text(b, h.hostOff, h.hostLen)}`;
    if (h.xffOff >= 0) s += ` X-Forwarded-For: ${text(b, h.xffOff, h.xffLen)}`;
    if (h.xRealIpOff >= 0) s += ` X-Real-IP: ${text(b, h.xRealIpOff, h.xRealIpLen)}`;
    if (h.clientAddrOff >= 0) s += ` client_address=${text(b, h.clientAddrOff, h.clientAddrLen)}`;
    parts.push(s);
  }
  if (rec.error !== null) parts.push(`[${rec.error}]`);
  return parts.join(' ');
}
