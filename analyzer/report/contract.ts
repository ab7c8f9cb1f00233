/**
 * The CONTRACT.md shape of `netlab analyze --json` / `netlab capture --json`, as the report
 * renderers read it. Renderers take this JSON (not the analyzer's internal result) so a report can
 * be re-rendered later from a saved report.json.
 */

export type PointRole = 'client' | 'lb' | 'node' | 'pod' | 'gateway' | string;

export interface ReportPoint {
  name: string;
  role: PointRole;
  node: string | null;
  pod: string | null;
  interface: string | null;
}

export type Translation = 'none' | 'routed' | 'dnat' | 'snat' | 'dnat+snat' | 'proxy' | 'encap' | 'decap' | string;

export interface ReportPpv2 {
  version?: number;
  command?: string | number;
  family?: string;
  /** The client: "ip:port", or the bare ip with `sport` beside it; null in a LOCAL header. */
  src: string | null;
  dst?: string | null;
  sport?: number;
  dport?: number;
}

export interface ReportHop {
  point: string;
  /** "ip:port" ("[v6]:port" for IPv6). */
  src: string;
  dst: string;
  ttl?: number | null;
  translation: Translation;
  by?: string | null;
  ppv2?: ReportPpv2 | null;
  /** Outer addresses when the packet was tunnelled (VXLAN, Geneve, IP-in-IP) at this point. */
  tunnel?: { kind: string; src: string; dst: string } | null;
  /** Not in CONTRACT.md yet: an analyzer that reports reply packets marks them here. */
  direction?: 'request' | 'reply';
}

export interface ReportEndpoint {
  ip: string;
  port: number;
}

export interface ReportFlow {
  id: string;
  client: ReportEndpoint | null;
  frontend: ReportEndpoint | null;
  backend: (ReportEndpoint & { pod?: string | null; node?: string | null }) | null;
  hops: ReportHop[];
  /** Optional: the reply's hops in the order the reply travelled (server first). */
  replyHops?: ReportHop[];
  /** A load balancer's health-check connection (PPv2 LOCAL), not client traffic. */
  healthCheck?: boolean;
  verdict: { clientIpAtBackend: 'peer' | 'ppv2' | 'xff' | 'lost' | string; lbDecisions: number; crossNode: boolean };
}

export interface ReportSummary {
  flows: number;
  clientIpAtBackend: Record<string, number>;
  backends: Record<string, number>;
  sourceSeenByBackend: Record<string, number>;
}

export interface ContractReport {
  scenario?: string;
  outDir?: string;
  points: ReportPoint[];
  flows: ReportFlow[];
  summary: ReportSummary;
  targetHealth?: DescribeTargetHealth;
}

/** `aws elbv2 describe-target-health` output, as `netlab describe-target-health` prints it. */
export interface DescribeTargetHealth {
  TargetHealthDescriptions: Array<{
    Target: { Id: string; Port?: number; AvailabilityZone?: string };
    HealthCheckPort?: string;
    TargetHealth: { State: string; Reason?: string; Description?: string };
  }>;
}

/** One poll of describe-target-health during a run; `t` is seconds since the run started. */
export interface TargetHealthSample {
  t: number;
  health: DescribeTargetHealth;
}

/** The flows of the traffic under study: health checks and probes left out. */
export const clientFlows = (r: ContractReport): ReportFlow[] => r.flows.filter((f) => !f.healthCheck);
