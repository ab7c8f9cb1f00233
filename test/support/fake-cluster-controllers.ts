/**
 * The two controllers (and the kubelet's part) a remote capture relies on, played by the test
 * against the fake API server through real watches: the DaemonSet controller makes one pod per
 * node the DaemonSet's node affinity selects (with the status a kubelet would report), and the
 * namespace controller removes a deleted namespace's DaemonSets and pods. `onPodDeleted` is where
 * the test ends the pod's processes (fake-kube-exec's `killPod`).
 *
 * Not modelled: rollout, pod restarts, taints (the capture DaemonSet tolerates all anyway).
 */
import { randomBytes } from 'node:crypto';
import { KubeClient, type Informer } from '../../cluster/kube/client.js';
import { loadKubeConfig } from '../../cluster/kube/config.js';
import type { KindTypes } from '../../cluster/kube/kinds.js';
import type { FakeKubeApi } from './fake-kube-api.js';

type DaemonSet = KindTypes['DaemonSet'];
type Pod = KindTypes['Pod'];

export interface ControllerOptions {
  /** What the kubelet reports for a pod of this image: running and ready (default), or stuck waiting. */
  podState?: (image: string) => { waiting: string } | 'running';
  onPodDeleted?: (namespace: string, name: string) => void;
}

export interface FakeControllers {
  stop(): void;
}

function selectedNodes(ds: DaemonSet, nodes: Array<KindTypes['Node']>): Array<KindTypes['Node']> {
  const terms = ds.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return nodes;
  return nodes.filter((n) => terms.some((t) => (t.matchFields ?? []).every((f) => f.key === 'metadata.name' && f.operator === 'In' && (f.values ?? []).includes(n.metadata?.name ?? ''))));
}

function daemonPod(ds: DaemonSet, node: KindTypes['Node'], state: { waiting: string } | 'running'): Pod {
  const spec = ds.spec!.template.spec!;
  const container = spec.containers[0]!;
  const nodeIp = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const running = state === 'running';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${ds.metadata!.name}-${randomBytes(3).toString('hex').slice(0, 5)}`,
      namespace: ds.metadata!.namespace,
      labels: ds.spec!.template.metadata?.labels,
      uid: randomBytes(16).toString('hex'),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata!.name!, uid: ds.metadata!.uid ?? '', controller: true }],
    },
    spec: { ...spec, nodeName: node.metadata!.name },
    status: {
      phase: running ? 'Running' : 'Pending',
      ...(spec.hostNetwork && nodeIp ? { podIP: nodeIp, hostIP: nodeIp } : {}),
      conditions: [{ type: 'Ready', status: running ? 'True' : 'False' }],
      containerStatuses: [{
        name: container.name,
        image: container.image ?? '',
        imageID: '',
        ready: running,
        restartCount: 0,
        ...(running ? { containerID: `containerd://${randomBytes(32).toString('hex')}`, state: { running: { startedAt: new Date().toISOString() } } } : { state: { waiting: { reason: state.waiting } } }),
      }],
    },
  };
}

export function startFakeControllers(api: FakeKubeApi, opts: ControllerOptions = {}): FakeControllers {
  const client = new KubeClient(loadKubeConfig({ kubeconfig: api.kubeconfigPath }));
  const informers: Array<Informer<unknown>> = [];
  informers.push(client.watch('DaemonSet', (e) => {
    if (e.type !== 'ADDED') return;
    for (const node of selectedNodes(e.object, api.objects('Node'))) {
      const image = e.object.spec?.template.spec?.containers[0]?.image ?? '';
      api.seed(daemonPod(e.object, node, opts.podState?.(image) ?? 'running'));
    }
  }));
  informers.push(client.watch('Namespace', (e) => {
    if (e.type !== 'DELETED') return;
    const ns = e.object.metadata!.name!;
    for (const ds of api.objects('DaemonSet', ns)) api.remove('DaemonSet', ds.metadata!.name!, ns);
    for (const pod of api.objects('Pod', ns)) {
      api.remove('Pod', pod.metadata!.name!, ns);
      opts.onPodDeleted?.(ns, pod.metadata!.name!);
    }
  }));
  return {
    stop: () => informers.forEach((i) => i.stop()),
  };
}
