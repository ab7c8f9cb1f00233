/**
 * PROXY protocol v2 headers as an NLB writes them (HAProxy's proxy-protocol.txt, section 2.2):
 * the 12-byte signature, version 2 + command, family + transport, the address block.
 */
import { isIPv4 } from 'node:net';

import { PPV2_SIGNATURE } from '../../workloads/proxy-protocol.js';

export { PPV2_SIGNATURE };

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** PROXY command, TCP over IPv4: the client's address and port → the listener's. */
export function ppv2ProxyHeader(src: string, sport: number, dst: string, dport: number): Buffer {
  if (!isIPv4(src) || !isIPv4(dst)) throw new RangeError(`PPv2 header needs IPv4 addresses, got ${src} → ${dst}`);
  const header = Buffer.alloc(16 + 12);
  PPV2_SIGNATURE.copy(header, 0);
  header[12] = 0x21; // version 2, PROXY
  header[13] = 0x11; // AF_INET, STREAM
  header.writeUInt16BE(12, 14);
  header.set(ipv4Bytes(src), 16);
  header.set(ipv4Bytes(dst), 20);
  header.writeUInt16BE(sport, 24);
  header.writeUInt16BE(dport, 26);
  return header;
}

/** LOCAL command with no addresses: what NLB health-check connections start with when PPv2 is on. */
export function ppv2LocalHeader(): Buffer {
  const header = Buffer.alloc(16);
  PPV2_SIGNATURE.copy(header, 0);
  header[12] = 0x20; // version 2, LOCAL
  header[13] = 0x00; // AF_UNSPEC, UNSPEC
  header.writeUInt16BE(0, 14);
  return header;
}
