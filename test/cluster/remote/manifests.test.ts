import { describe, expect, it } from 'vitest';
import { buildCaptureObjects, captureNamespaceName, DEFAULT_CAPTURE_IMAGE, RUN_LABEL } from '../../../cluster/remote/manifests.js';

describe('capture DaemonSet', () => {
  const objects = buildCaptureObjects({ runId: 'a1b2c3', image: DEFAULT_CAPTURE_IMAGE, nodes: ['worker2', 'worker'] });

  it('is the namespace and DaemonSet netlab deploys', () => {
    expect(objects).toMatchSnapshot();
  });

  it('runs privileged on the host network and pid space, tolerating every taint, only on the given nodes', () => {
    const pod = objects.daemonSet.spec!.template.spec!;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).toBe(true);
    expect(pod.containers[0]!.securityContext?.privileged).toBe(true);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    const terms = pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    expect(terms).toEqual([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker', 'worker2'] }] }]);
  });

  it('lives in its own namespace, and everything carries the run label for cleanup', () => {
    expect(objects.namespace.metadata!.name).toBe(captureNamespaceName('a1b2c3'));
    expect(objects.daemonSet.metadata!.namespace).toBe('netlab-capture-a1b2c3');
    for (const labels of [objects.namespace.metadata!.labels, objects.daemonSet.metadata!.labels, objects.daemonSet.spec!.template.metadata!.labels]) {
      expect(labels![RUN_LABEL]).toBe('a1b2c3');
    }
    expect(objects.daemonSet.spec!.selector.matchLabels).toEqual(expect.objectContaining({ [RUN_LABEL]: 'a1b2c3' }));
  });

  it('takes the image the user names', () => {
    const custom = buildCaptureObjects({ runId: 'x', image: 'registry.example/tools:1', nodes: ['n'] });
    expect(custom.daemonSet.spec!.template.spec!.containers[0]!.image).toBe('registry.example/tools:1');
  });
});
