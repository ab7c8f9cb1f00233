/**
 * The AWS Load Balancer Controller's Service annotations, parsed with its defaults and checked
 * against the ranges the ELBv2 API enforces. Every problem becomes a `ServiceEvent` the lab records
 * on the Service (as the controller's FailedBuildModel / FailedDeployModel events), never a throw.
 */

export const ANNOTATION_PREFIX = 'service.beta.kubernetes.io/';
export const NLB_LOAD_BALANCER_CLASS = 'service.k8s.aws/nlb';

export const ANNOTATION = {
  type: `${ANNOTATION_PREFIX}aws-load-balancer-type`,
  targetType: `${ANNOTATION_PREFIX}aws-load-balancer-nlb-target-type`,
  scheme: `${ANNOTATION_PREFIX}aws-load-balancer-scheme`,
  internal: `${ANNOTATION_PREFIX}aws-load-balancer-internal`,
  proxyProtocol: `${ANNOTATION_PREFIX}aws-load-balancer-proxy-protocol`,
  hcProtocol: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-protocol`,
  hcPort: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-port`,
  hcPath: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-path`,
  hcInterval: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-interval`,
  hcTimeout: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-timeout`,
  hcHealthy: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-healthy-threshold`,
  hcUnhealthy: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-unhealthy-threshold`,
  hcSuccessCodes: `${ANNOTATION_PREFIX}aws-load-balancer-healthcheck-success-codes`,
  targetGroupAttributes: `${ANNOTATION_PREFIX}aws-load-balancer-target-group-attributes`,
  attributes: `${ANNOTATION_PREFIX}aws-load-balancer-attributes`,
  crossZoneDeprecated: `${ANNOTATION_PREFIX}aws-load-balancer-cross-zone-load-balancing-enabled`,
} as const;

export interface ServiceEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Collects problems instead of throwing, so one bad annotation reports every other one too. */
export class Problems {
  readonly build: string[] = [];
  readonly deploy: string[] = [];

  /** A value the controller itself rejects while building its model. */
  buildError(annotation: string, value: string, what: string): void {
    this.build.push(`annotation ${annotation}="${value}": ${what}`);
  }

  /** A value the controller passes on but the ELBv2 API refuses (AWS's ValidationError). */
  validationError(message: string): void {
    this.deploy.push(`ValidationError: ${message}`);
  }

  events(): ServiceEvent[] {
    const events: ServiceEvent[] = [];
    for (const m of this.build) events.push({ type: 'Warning', reason: 'FailedBuildModel', message: `Failed build model due to ${m}` });
    for (const m of this.deploy) events.push({ type: 'Warning', reason: 'FailedDeployModel', message: `Failed deploy model due to ${m}` });
    return events;
  }

  get empty(): boolean {
    return this.build.length === 0 && this.deploy.length === 0;
  }
}

export function parseBool(raw: string): boolean | undefined {
  // Go's strconv.ParseBool, which the controller uses.
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  return undefined;
}

export function boolAnnotation(annotations: Record<string, string>, key: string, fallback: boolean, problems: Problems): boolean {
  const raw = annotations[key];
  if (raw === undefined) return fallback;
  const value = parseBool(raw.trim());
  if (value === undefined) {
    problems.buildError(key, raw, 'not a boolean (use "true" or "false")');
    return fallback;
  }
  return value;
}

export function int32Annotation(annotations: Record<string, string>, key: string, fallback: number, problems: Problems): number {
  const raw = annotations[key];
  if (raw === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(raw.trim())) {
    problems.buildError(key, raw, 'not an integer');
    return fallback;
  }
  return Number(raw.trim());
}

/**
 * `k1=v1, k2=v2` as the controller's ParseStringMapAnnotation reads it: pairs split on commas,
 * each trimmed, a pair without `=` is an error.
 */
export function mapAnnotation(annotations: Record<string, string>, key: string, problems: Problems): Map<string, string> {
  const out = new Map<string, string>();
  const raw = annotations[key];
  if (raw === undefined) return out;
  for (const part of raw.split(',')) {
    const pair = part.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.buildError(key, raw, `failed to parse stringMap annotation: "${pair}" is not key=value`);
      continue;
    }
    out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return out;
}

/** AWS's health-check matcher: "200", "200,202" or "200-399", codes 200-599 for NLB HTTP checks. */
export function parseSuccessCodes(raw: string): Array<[number, number]> | undefined {
  const ranges: Array<[number, number]> = [];
  for (const part of raw.split(',')) {
    const m = /^\s*(\d{3})(?:-(\d{3}))?\s*$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 200 || hi > 599 || lo > hi) return undefined;
    ranges.push([lo, hi]);
  }
  return ranges.length > 0 ? ranges : undefined;
}
