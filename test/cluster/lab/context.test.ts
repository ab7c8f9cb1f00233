import { describe, expect, it } from 'vitest';
import { makeContext } from '../../../cluster/lab/context.js';
import { updatePodStatus } from '../../../cluster/model/pods.js';
import { state } from './state-fixture.js';

describe('the plug-in context a controller (e.g. the NLB emulator) gets', () => {
  it('sets readiness-gate conditions that make the pod Ready', () => {
    const s = state();
    const ctx = makeContext(s, () => undefined);
    const pod = s.pods[0]!;
    updatePodStatus(pod, true, true, ctx.now);
    expect(pod.object.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    ctx.setPodCondition('default', 'd-x-abcde', 'target-health.elbv2.k8s.aws/k8s-default-svc-0123456789', 'True', 'Elb.Healthy');
    updatePodStatus(pod, true, true, ctx.now);
    expect(pod.object.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('updates Service status, holds pods with finalizers, keeps per-controller state', () => {
    const s = state();
    const ctx = makeContext(s, () => undefined);
    ctx.setServiceStatus('default', 's', { loadBalancer: { ingress: [{ hostname: 'k8s-default-s-0123.elb.lab-1.amazonaws.com' }] } });
    expect(s.objects.services[0]!.status?.loadBalancer?.ingress?.[0]?.hostname).toContain('elb');
    ctx.addPodFinalizer('default', 'd-x-abcde', 'netlab.dev/nlb-drain');
    expect(s.pods[0]!.object.metadata?.finalizers).toEqual(['netlab.dev/nlb-drain']);
    ctx.removePodFinalizer('default', 'd-x-abcde', 'netlab.dev/nlb-drain');
    expect(s.pods[0]!.object.metadata?.finalizers).toBeUndefined();
    const nlb = ctx.extension('nlb', () => ({ targetGroups: [] as string[] }));
    nlb.targetGroups.push('tg-1');
    expect(ctx.extension('nlb', () => ({ targetGroups: [] as string[] })).targetGroups).toEqual(['tg-1']);
    expect(ctx.names.nsNlb('L', 'a')).toBe('L-nlb-a');
    expect(() => ctx.setPodCondition('default', 'nope', 'x', 'True')).toThrow(/no pod default\/nope/);
  });
});
