/** The analysis result: what `analyze()` returns and `toContractJson` serialises (CONTRACT.md). */

export type PointRole = 'client' | 'lb' | 'node' | 'pod' | 'gateway';
export const POINT_ROLES: readonly PointRole[] = ['client', 'lb', 'node', 'pod', 'gateway'];

export type Translation = 'none' | 'routed' | 'dnat' | 'snat' | 'dnat+snat' | 'proxy' | 'encap' | 'decap';
export type ClientIpVerdict = 'peer' | 'ppv2' | 'xff' | 'lost';

/** One capture point: one interface of one namespace/host (a `-i any` file yields several). */
export interface PointInfo {
  name: string;
  role: PointRole;
  node: string | null;
  pod: string | null;
  namespace: string | null;
  interface: string | null;
  /** The capture file (path as given) and, for split files, which part of it. */
  file: string;
  linktype: number | null;
  /** Who rewrites packets in this point's namespace (nlb, kube-proxy, gateway…). */
  actor: string;
  /** The namespace/host the point belongs to: points of one host share it. */
  host: string;
  packets: number;
}

export interface Ppv2Info {
  command: 'LOCAL' | 'PROXY';
  version: number;
  /** The client and the address it connected to (null for LOCAL). */
  src: string | null;
  dst: string | null;
  /** Packet number at this hop's point. */
  n: number;
}

export interface HopResult {
  point: string;
  src: string;
  dst: string;
  ttl: number;
  translation: Translation;
  /** Who made this step's change (from the manifest's roles), or null for none/routed. */
  by: string | null;
  /** The node or host where it happened. */
  at: string | null;
  ppv2: Ppv2Info | null;
  /** X-Forwarded-For on an HTTP request seen here. */
  xff: string | null;
  /** VXLAN/Geneve/IP-in-IP outer addresses when the packet was tunnelled at this point. */
  tunnel: { kind: string; src: string; dst: string } | null;
  /** Packet number (in this point's capture) of the first packet matched at this hop. */
  n: number;
  /** Which TCP connection of the flow (they differ after a proxy hop). */
  connection: number;
  packets: number;
  retransmissions: number;
  duplicates: number;
  superframes: number;
  time: number;
}

export interface FlowResult {
  id: string;
  client: { ip: string; port: number };
  frontend: { ip: string; port: number };
  backend: { ip: string; port: number; pod: string | null; node: string | null };
  hops: HopResult[];
  /** The reply direction, backend first; reverse NAT shows as the inverse rewrites. */
  replyHops: HopResult[];
  verdict: {
    clientIpAtBackend: ClientIpVerdict;
    lbDecisions: number;
    crossNode: boolean;
    /** The reply reached the client from the address the client sent to (reverse NAT undone). */
    replyFromFrontend: boolean | null;
  };
  /** A PROXY v2 LOCAL connection: a load balancer's health check, not client traffic. */
  healthCheck: boolean;
  packets: number;
  retransmissions: number;
  duplicates: number;
  /** The path shape: points and translations, used to group flows into tables. */
  shape: string;
}

export interface Summary {
  flows: number;
  clientIpAtBackend: Record<ClientIpVerdict, number>;
  backends: Record<string, number>;
  sourceSeenByBackend: Record<string, number>;
  healthChecks: number;
}

export interface Warning {
  /** 'unusable' inputs make the CLI exit 2 after showing what it can. */
  severity: 'unusable' | 'notice';
  message: string;
  where?: string;
  hint?: string;
}

export interface GroundTruthCheck {
  flow: string;
  host: string;
  /** The NAT the packets showed at this host and the one conntrack recorded. */
  inferred: string;
  conntrack: string;
  agree: boolean;
}

export interface GroundTruth {
  files: string[];
  entries: number;
  checked: number;
  agree: number;
  disagree: number;
  checks: GroundTruthCheck[];
}

export interface AnalysisStats {
  packets: number;
  tcpPackets: number;
  connections: number;
  retransmissions: number;
  duplicates: number;
  proxyLinks: number;
  maxConnectionsInFlight: number;
  fingerprintsEvictedEarly: number;
  fingerprintConflicts: number;
  malformed: number;
}

export interface AnalysisResult {
  points: PointInfo[];
  flows: FlowResult[];
  summary: Summary;
  warnings: Warning[];
  stats: AnalysisStats;
  groundTruth: GroundTruth | null;
}
