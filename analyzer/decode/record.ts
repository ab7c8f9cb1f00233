/**
 * The decoder's output: ONE mutable record per decoder, refilled for every packet and handed to
 * the consumer's callback. Nothing here is allocated per packet; a consumer that keeps anything
 * copies the numbers it needs (or calls `recordToContract`, which allocates, for output paths).
 *
 * Addresses: IPv4 as unsigned 32-bit numbers (`src4`/`dst4`); IPv6 in the reused 16-byte arrays
 * `src6`/`dst6`. `payloadOffset` indexes `bytes`, the decoder's current buffer, and is valid only
 * during the callback.
 */

export const L3 = { NONE: 0, IPV4: 4, IPV6: 6, ARP: 1, OTHER: 9 } as const;
export type L3Code = (typeof L3)[keyof typeof L3];

export const PROTO = { NONE: -1, ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

/** TCP flag bits as in the header's 13th byte. */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface Ppv2Record {
  present: boolean;
  /** 1 for text v1, 2 for binary v2. */
  version: number;
  /** 0 LOCAL, 1 PROXY. */
  command: number;
  /** 'inet' | 'inet6' | 'unix' | 'unspec' (constant strings, not allocated). */
  family: string;
  src4: number;
  dst4: number;
  src6: Uint8Array;
  dst6: Uint8Array;
  sport: number;
  dport: number;
  /** Total header length in bytes (16 + declared length for v2). */
  headerLen: number;
  /** Offset of the TLV area inside `bytes`, and its length. */
  tlvOffset: number;
  tlvLen: number;
  /** CRC32C TLV: -1 absent, 0 bad, 1 good. */
  crcOk: number;
  /** AWS TLV 0xEA VPC endpoint id: offset/length inside `buf`, -1 when absent. */
  awsVpceOffset: number;
  awsVpceLen: number;
  /**
   * The buffer `tlvOffset`/`awsVpceOffset` index: the packet's `bytes`, or the flow's reassembly
   * buffer when the header was split over segments (valid during the callback only).
   */
  buf: Uint8Array;
  /** The header was completed by reassembling this flow's earlier segment(s). */
  reassembled: boolean;
  /** The snap length cut the header: addresses are known, later TLVs and the CRC are not. */
  truncated: boolean;
}

export interface HttpRecord {
  present: boolean;
  isRequest: boolean;
  /** Offsets/lengths inside `bytes` (-1 when absent) so no string is built per packet. */
  methodOff: number; methodLen: number;
  pathOff: number; pathLen: number;
  status: number;
  hostOff: number; hostLen: number;
  xffOff: number; xffLen: number;
  xRealIpOff: number; xRealIpLen: number;
  /** The echo server's `client_address: X` line in a response body. */
  clientAddrOff: number; clientAddrLen: number;
}

export interface L34Fields {
  l3: L3Code;
  src4: number;
  dst4: number;
  src6: Uint8Array;
  dst6: Uint8Array;
  /** IP protocol number, or PROTO.NONE. */
  proto: number;
  sport: number;
  dport: number;
  ipId: number;
  ttl: number;
  /** IPv4 fragment (MF set or offset > 0). */
  fragment: boolean;
  seq: number;
  ack: number;
  tcpFlags: number;
  window: number;
  /** TCP options; -1 when absent. */
  mss: number;
  wscale: number;
  tsval: number;
  tsecr: number;
  payloadOffset: number;
  payloadLen: number;
  /** Payload bytes actually captured (≤ payloadLen when the snap length cut the packet). */
  payloadCaptured: number;
  /** A cheap hash (FNV-1a 32) of the first bytes of payload, for cross-point matching. */
  payloadHash: number;
  /** IPv6 flow label, -1 for IPv4. */
  flowLabel: number;
  /** ICMP/ICMPv6 type and code, -1 otherwise. */
  icmpType: number;
  icmpCode: number;
}

export interface PacketRecord extends L34Fields {
  /** 1-based index in the input. */
  n: number;
  tsSec: number;
  tsNsec: number;
  linktype: number;
  /** pcapng interface id, 0 for pcap. */
  interfaceId: number;
  /** LINUX_SLL2 interface index, -1 otherwise. */
  ifindex: number;
  /** LINUX_SLL/SLL2 packet type (0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing), -1 otherwise. */
  pktType: number;
  caplen: number;
  origLen: number;
  /** Byte offset of this packet's record in the input. */
  fileOffset: number;
  /** The buffer the offsets point into (valid during the callback only). */
  bytes: Uint8Array;
  /** ARP: opcode, sender/target IPv4 (src4/dst4 hold them). */
  arpOp: number;
  /** Outermost 802.1Q/802.1ad VLAN id, -1 when untagged. */
  vlan: number;
  /** Tunnel: 'vxlan' | 'geneve' | 'ipip' | null, and the inner packet's fields. */
  tunnel: string | null;
  /** VXLAN/Geneve VNI, -1 otherwise. */
  vni: number;
  inner: L34Fields;
  /** ICMP/ICMPv6 error messages: the quoted original packet's header (`quoted.l3` is NONE when absent). */
  quoted: L34Fields;
  ppv2: Ppv2Record;
  http: HttpRecord;
  /** null, or a constant reason string like 'truncated-tcp'. */
  error: string | null;
}
