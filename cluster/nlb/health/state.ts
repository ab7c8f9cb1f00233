/**
 * One target's health as an NLB node tracks it, with AWS's state names, reason codes and
 * descriptions (elbv2 TargetHealth). Pure transitions: probe results and (de)registration in, new
 * state out; the agent owns the clock and the probes.
 */

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining';

/** A target's health as AWS reports it (describe-target-health's TargetHealth). */
export interface TargetHealthFields {
  state: TargetState;
  reason: string | null;
  description: string | null;
}

export type ProbeResult =
  | { ok: true; code?: number }
  | { ok: false; failure: 'connect'; detail: string }
  | { ok: false; failure: 'timeout' }
  | { ok: false; failure: 'code'; code: number };

export interface TargetHealth {
  state: TargetState;
  /** AWS reason code; absent when healthy. */
  reason: string | null;
  description: string | null;
  consecutiveOk: number;
  consecutiveFail: number;
  probes: number;
  registeredAtMs: number;
  /** draining: when the deregistration delay ends. */
  drainUntilMs: number | null;
  lastProbe: ProbeResult | null;
}

export const REASONS = {
  registration: ['Elb.RegistrationInProgress', 'Target registration is in progress'],
  initialChecks: ['Elb.InitialHealthChecking', 'Initial health checks in progress'],
  failed: ['Target.FailedHealthChecks', 'Health checks failed'],
  timeout: ['Target.Timeout', 'Request timed out'],
  deregistration: ['Target.DeregistrationInProgress', 'Target deregistration is in progress'],
  notInUse: ['Target.NotInUse', 'Target is in an Availability Zone that is not enabled for the load balancer'],
} as const;

function withReason(h: TargetHealth, state: TargetState, reason: readonly [string, string] | null): TargetHealth {
  return { ...h, state, reason: reason?.[0] ?? null, description: reason?.[1] ?? null };
}

export function registered(nowMs: number): TargetHealth {
  return {
    state: 'initial',
    reason: REASONS.registration[0],
    description: REASONS.registration[1],
    consecutiveOk: 0,
    consecutiveFail: 0,
    probes: 0,
    registeredAtMs: nowMs,
    drainUntilMs: null,
    lastProbe: null,
  };
}

function unhealthyReason(result: ProbeResult): readonly [string, string] {
  if (result.ok) return REASONS.failed;
  if (result.failure === 'timeout') return REASONS.timeout;
  if (result.failure === 'code') return ['Target.ResponseCodeMismatch', `Health checks failed with these codes: [${result.code}]`];
  return REASONS.failed;
}

/** Apply one probe result with the target group's thresholds. */
export function afterProbe(h: TargetHealth, result: ProbeResult, healthyThreshold: number, unhealthyThreshold: number): TargetHealth {
  if (h.state === 'draining' || h.state === 'unused') return h;
  const next: TargetHealth = {
    ...h,
    probes: h.probes + 1,
    consecutiveOk: result.ok ? h.consecutiveOk + 1 : 0,
    consecutiveFail: result.ok ? 0 : h.consecutiveFail + 1,
    lastProbe: result,
  };
  if (result.ok && next.consecutiveOk >= healthyThreshold) return withReason(next, 'healthy', null);
  if (!result.ok && next.consecutiveFail >= unhealthyThreshold) return withReason(next, 'unhealthy', unhealthyReason(result));
  if (h.state === 'initial') return withReason(next, 'initial', REASONS.initialChecks);
  if (h.state === 'unhealthy') return withReason(next, 'unhealthy', unhealthyReason(result.ok ? (h.lastProbe ?? result) : result));
  return next;
}

export function deregistered(h: TargetHealth, nowMs: number, delayMs: number): TargetHealth {
  if (h.state === 'draining') return h;
  return { ...withReason(h, 'draining', REASONS.deregistration), drainUntilMs: nowMs + delayMs };
}

/** Whether new flows may go to this target (before fail-open is considered). */
export function takesNewFlows(h: TargetHealth): boolean {
  return h.state === 'healthy';
}

/**
 * The targets a node sends new flows to: the healthy ones; when none is healthy, every registered
 * target that is not draining or unused (NLB fails open).
 */
export function routable<T>(targets: readonly T[], health: (t: T) => TargetHealth): T[] {
  const live = targets.filter((t) => {
    const s = health(t).state;
    return s !== 'draining' && s !== 'unused';
  });
  const healthy = live.filter((t) => takesNewFlows(health(t)));
  return healthy.length > 0 ? healthy : live;
}
