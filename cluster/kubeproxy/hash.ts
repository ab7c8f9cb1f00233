/**
 * kube-proxy's chain names: a prefix plus the first 16 characters of the RFC 4648 base32 encoding
 * (with padding alphabet, upper case) of sha256(servicePortName + protocol [+ endpoint]), where
 * servicePortName is "namespace/name" plus ":portName" when the port has a name, and protocol is
 * lower case. Same inputs, same names as on a real node.
 */
import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function hash16(text: string): string {
  return base32(createHash('sha256').update(text).digest()).slice(0, 16);
}

export function servicePortName(namespace: string, name: string, portName: string | undefined): string {
  return `${namespace}/${name}${portName ? `:${portName}` : ''}`;
}

export const svcChain = (spn: string, protocol: string): string => `KUBE-SVC-${hash16(spn + protocol)}`;
export const svlChain = (spn: string, protocol: string): string => `KUBE-SVL-${hash16(spn + protocol)}`;
export const extChain = (spn: string, protocol: string): string => `KUBE-EXT-${hash16(spn + protocol)}`;
export const fwChain = (spn: string, protocol: string): string => `KUBE-FW-${hash16(spn + protocol)}`;
export const sepChain = (spn: string, protocol: string, endpoint: string): string => `KUBE-SEP-${hash16(spn + protocol + endpoint)}`;
