/** The CONTRACT.md report shape, as `netlab analyze --json` and `netlab capture --json` print it. */

export interface ContractPoint {
  name: string;
  role: string;
  node: string | null;
  pod: string | null;
  interface: string | null;
}

export interface ContractHop {
  point: string;
  src: string;
  dst: string;
  ttl: number | null;
  translation: string;
  by: string | null;
  ppv2: unknown;
}

export interface ContractFlow {
  id: string;
  client: { ip: string; port: number };
  frontend: { ip: string; port: number };
  backend: { ip: string; port: number; pod: string | null; node: string | null } | null;
  hops: ContractHop[];
  verdict: { clientIpAtBackend: 'peer' | 'ppv2' | 'xff' | 'lost'; lbDecisions: number; crossNode: boolean };
  /** Background traffic (probes, load-balancer health checks), not the traffic under study. */
  healthCheck?: boolean;
}

/** The flows of the traffic under study. */
export const clientFlows = (r: ContractReport): ContractFlow[] => r.flows.filter((f) => !f.healthCheck);

export interface ContractReport {
  points: ContractPoint[];
  flows: ContractFlow[];
  summary: {
    flows: number;
    clientIpAtBackend: Record<'peer' | 'ppv2' | 'xff' | 'lost', number>;
    backends: Record<string, number>;
    sourceSeenByBackend: Record<string, number>;
  };
}
