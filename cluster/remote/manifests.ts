/**
 * What `netlab capture --kubeconfig` deploys on a cluster, as pure data: one namespace of its own
 * and one privileged DaemonSet whose pods sit idle on the nodes that matter until netlab execs
 * tcpdump in them. Everything carries the run's label so cleanup (or a person) can find it.
 */
import type { V1DaemonSet, V1Namespace } from '@kubernetes/client-node';
import type { Json } from '../lab/state.js';

/**
 * nicolaka/netshoot carries tcpdump, nsenter, iproute2, find/grep and timeout in one small image
 * that most clusters can pull; pinned by digest so every node runs the same bytes. The digest is
 * the one public projects pin for v0.13 (it was not pulled here: no registry is reachable).
 */
export const DEFAULT_CAPTURE_IMAGE = 'docker.io/nicolaka/netshoot:v0.13@sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'netlab';
/** Set on the namespace and every object in it, valued with the run id. */
export const RUN_LABEL = 'netlab.dev/capture-run';
export const CAPTURE_NAMESPACE_PREFIX = 'netlab-capture-';
export const DAEMONSET_NAME = 'netlab-capture';
export const CAPTURE_CONTAINER = 'capture';

export interface CaptureObjectsInput {
  /** Random suffix of this run: namespace `netlab-capture-<runId>`. */
  runId: string;
  image: string;
  /** Node names the DaemonSet may run on (the Service's endpoint nodes, or --nodes). */
  nodes: readonly string[];
}

export interface CaptureObjects {
  namespace: Json<V1Namespace>;
  daemonSet: Json<V1DaemonSet>;
}

export function captureNamespaceName(runId: string): string {
  return `${CAPTURE_NAMESPACE_PREFIX}${runId}`;
}

export function buildCaptureObjects(input: CaptureObjectsInput): CaptureObjects {
  const ns = captureNamespaceName(input.runId);
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY, [RUN_LABEL]: input.runId };
  const podLabels = { ...labels, 'app.kubernetes.io/name': DAEMONSET_NAME };
  return {
    namespace: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns,
        labels: {
          ...labels,
          // Pod Security Admission would reject a privileged hostNetwork/hostPID pod elsewhere.
          'pod-security.kubernetes.io/enforce': 'privileged',
        },
      },
    },
    daemonSet: {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: DAEMONSET_NAME, namespace: ns, labels },
      spec: {
        selector: { matchLabels: { [RUN_LABEL]: input.runId, 'app.kubernetes.io/name': DAEMONSET_NAME } },
        template: {
          metadata: { labels: podLabels },
          spec: {
            // The node's own interfaces (tcpdump -i any) and every container's pid (nsenter -n).
            hostNetwork: true,
            hostPID: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 2,
            // Nodes that matter even when tainted (control plane, dedicated pools, NoExecute).
            tolerations: [{ operator: 'Exists' }],
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  // By node name, as the DaemonSet controller itself pins pods: hostname labels may differ.
                  nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [...input.nodes].sort() }] }],
                },
              },
            },
            containers: [{
              name: CAPTURE_CONTAINER,
              image: input.image,
              imagePullPolicy: 'IfNotPresent',
              // Idle until netlab execs tcpdump; deleting the namespace ends it.
              command: ['sleep', '86400'],
              securityContext: { privileged: true },
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '512Mi' } },
            }],
          },
        },
      },
    },
  };
}
