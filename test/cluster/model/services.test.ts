import { describe, expect, it } from 'vitest';
import type { Service } from '../../../cluster/lab/state.js';
import { allocateService, isMetallbService, isNlbService } from '../../../cluster/model/services.js';

const lb = (name: string, extra: Partial<NonNullable<Service['spec']>> = {}, annotations?: Record<string, string>): Service => ({
  metadata: { name, annotations },
  spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'x' }, ...extra },
});

describe('Service allocation and ownership', () => {
  it('fills cluster IP, node port and health-check node port like the API server, stably', () => {
    const s = allocateService(lb('a', { externalTrafficPolicy: 'Local' }), []);
    expect(s.spec?.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(s.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(s.spec?.ports?.[0]?.nodePort).toBeLessThanOrEqual(32767);
    expect(s.spec?.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(s.spec?.healthCheckNodePort).not.toBe(s.spec?.ports?.[0]?.nodePort);
    expect(s.metadata?.namespace).toBe('default');
    expect(allocateService(lb('a', { externalTrafficPolicy: 'Local' }), [])).toEqual(s);
    const c = allocateService(lb('b'), []);
    expect(c.spec?.externalTrafficPolicy).toBe('Cluster');
    expect(c.spec?.healthCheckNodePort).toBeUndefined();
  });

  it('never hands out a cluster IP or port another Service holds', () => {
    const a = allocateService(lb('a'), []);
    const clash = allocateService(lb('a'), [a]);
    expect(clash.spec?.clusterIP).not.toBe(a.spec?.clusterIP);
    expect(clash.spec?.ports?.[0]?.nodePort).not.toBe(a.spec?.ports?.[0]?.nodePort);
  });

  it('keeps ports the manifest names', () => {
    const s = allocateService(lb('a', { clusterIP: '10.96.5.5', ports: [{ port: 80, nodePort: 30080 }] }), []);
    expect(s.spec?.clusterIP).toBe('10.96.5.5');
    expect(s.spec?.ports?.[0]?.nodePort).toBe(30080);
  });

  it('leaves NLB Services (class or AWS annotations) to the NLB emulator', () => {
    expect(isNlbService(lb('a', { loadBalancerClass: 'service.k8s.aws/nlb' }))).toBe(true);
    expect(isNlbService(lb('a', {}, { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external' }))).toBe(true);
    expect(isNlbService(lb('a', {}, { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb-ip' }))).toBe(true);
    expect(isMetallbService(lb('a', {}, { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb-ip' }))).toBe(false);
    expect(isMetallbService(lb('a', { loadBalancerClass: 'example.com/other' }))).toBe(false);
    expect(isMetallbService(lb('a'))).toBe(true);
    expect(isMetallbService({ spec: { type: 'NodePort' } })).toBe(false);
  });
});
