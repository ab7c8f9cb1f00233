import { describe, expect, it } from 'vitest';
import { afterProbe, deregistered, registered, routable, type ProbeResult, type TargetHealth } from '../../../../cluster/nlb/health/state.js';

const ok: ProbeResult = { ok: true };
const refused: ProbeResult = { ok: false, failure: 'connect', detail: 'ECONNREFUSED' };
const code503: ProbeResult = { ok: false, failure: 'code', code: 503 };
const timeout: ProbeResult = { ok: false, failure: 'timeout' };

function run(results: ProbeResult[], healthy = 3, unhealthy = 3): Array<[string, string | null, string | null]> {
  let h = registered(0);
  const trail: Array<[string, string | null, string | null]> = [[h.state, h.reason, h.description]];
  for (const r of results) {
    h = afterProbe(h, r, healthy, unhealthy);
    trail.push([h.state, h.reason, h.description]);
  }
  return trail;
}

describe('target health transitions (AWS names)', () => {
  it('initial: registration, then initial health checking, then healthy after the healthy threshold', () => {
    expect(run([ok, ok, ok])).toEqual([
      ['initial', 'Elb.RegistrationInProgress', 'Target registration is in progress'],
      ['initial', 'Elb.InitialHealthChecking', 'Initial health checks in progress'],
      ['initial', 'Elb.InitialHealthChecking', 'Initial health checks in progress'],
      ['healthy', null, null],
    ]);
  });

  it('unhealthy reasons: failed checks, response code mismatch with the code, timeout', () => {
    expect(run([refused, refused], 2, 2).at(-1)).toEqual(['unhealthy', 'Target.FailedHealthChecks', 'Health checks failed']);
    expect(run([code503, code503], 2, 2).at(-1)).toEqual(['unhealthy', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [503]']);
    expect(run([timeout, timeout], 2, 2).at(-1)).toEqual(['unhealthy', 'Target.Timeout', 'Request timed out']);
  });

  it('a healthy target stays healthy until the unhealthy threshold, and recovers only after the healthy threshold', () => {
    const trail = run([ok, ok, ok, refused, refused, ok, refused, refused, refused, ok, ok, ok]);
    expect(trail.map((t) => t[0])).toEqual([
      'initial', 'initial', 'initial', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'unhealthy', 'unhealthy', 'unhealthy', 'healthy',
    ]);
  });

  it('deregistration drains for the delay and ignores later probes', () => {
    const h = deregistered(afterProbe(registered(0), ok, 1, 3), 1000, 300_000);
    expect(h).toMatchObject({ state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress', drainUntilMs: 301_000 });
    expect(afterProbe(h, refused, 3, 3)).toBe(h);
  });

  it('routing: healthy targets only; fail open to every live target when none is healthy; never draining ones', () => {
    const healthy: TargetHealth = afterProbe(registered(0), ok, 1, 3);
    const sick: TargetHealth = afterProbe(registered(0), refused, 3, 1);
    const draining = deregistered(healthy, 0, 1000);
    const targets = [{ n: 'h', h: healthy }, { n: 's', h: sick }, { n: 'd', h: draining }];
    expect(routable(targets, (t) => t.h).map((t) => t.n)).toEqual(['h']);
    expect(routable(targets.slice(1), (t) => t.h).map((t) => t.n)).toEqual(['s']);
    expect(routable([targets[2]!], (t) => t.h)).toEqual([]);
  });
});
