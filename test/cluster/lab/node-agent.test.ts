import { describe, expect, it } from 'vitest';
import { healthCheckResponse, probeDue, recordProbe, type AgentProbe } from '../../../cluster/lab/node-agent.js';

const probe: AgentProbe = { key: 'default/p', ip: '10.244.1.2', port: 8080, path: '/healthz', pid: 100, periodSeconds: 10, failureThreshold: 3, successThreshold: 1, once: false };

describe('node agent', () => {
  it("answers healthCheckNodePort like kube-proxy: 503 without local endpoints, 200 with, JSON body", () => {
    const none = healthCheckResponse({ port: 32000, namespace: 'default', name: 'svc', localEndpoints: 0 });
    expect(none.status).toBe(503);
    expect(JSON.parse(none.body)).toEqual({ service: { namespace: 'default', name: 'svc' }, localEndpoints: 0, serviceProxyHealthy: true });
    expect(healthCheckResponse({ port: 32000, namespace: 'default', name: 'svc', localEndpoints: 2 }).status).toBe(200);
  });

  it('probes a new pod every tick until it is ready, then every periodSeconds', () => {
    expect(probeDue(probe, undefined, 0)).toBe(true);
    const ready = recordProbe(probe, undefined, true, 1000);
    expect(ready.ready).toBe(true);
    expect(probeDue(probe, ready, 5000)).toBe(false);
    expect(probeDue(probe, ready, 11_000)).toBe(true);
    expect(probeDue({ ...probe, pid: 101 }, ready, 1500)).toBe(true);
    expect(probeDue({ ...probe, once: true }, ready, 60_000)).toBe(false);
  });

  it('turns unready only after failureThreshold misses, as the kubelet does', () => {
    let st = recordProbe(probe, undefined, true, 0);
    st = recordProbe(probe, st, false, 10_000);
    st = recordProbe(probe, st, false, 20_000);
    expect(st.ready).toBe(true);
    st = recordProbe(probe, st, false, 30_000);
    expect(st.ready).toBe(false);
    expect(recordProbe(probe, st, true, 31_000).ready).toBe(true);
    // A restarted container (new pid) starts over, unready.
    expect(recordProbe({ ...probe, pid: 7 }, st, false, 32_000).ready).toBe(false);
  });
});
