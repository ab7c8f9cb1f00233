/**
 * A scenario's YAML made runnable on kind. In the netns lab a Deployment's image only picks which
 * netlab script a pod runs (cluster/workloads/images.ts); on kind the pods are real containers,
 * so each container becomes netlab's own image (loaded with `kind load docker-image`, never
 * pulled) running that same script, with the same arguments. What the netns lab fills in per pod
 * (name, node, IP) comes from the downward API here: `$(POD_NAME)` in args is expanded by the
 * kubelet from the env vars this rewrite adds. Pure, snapshot-tested.
 */
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import type { Deployment, Namespace, Pod, Service } from '../lab/state.js';
import type { LabModel } from '../model/parse.js';
import { planLoadBalancer, readinessGatesForNewPod } from '../nlb/plan/build.js';
import { WORKLOADS, podPorts } from '../workloads/images.js';
import { REGION } from './config.js';

export interface NetlabImage {
  /** The image tag as loaded into the kind nodes. */
  tag: string;
  /** Where netlab's files are inside the image (the folder holding dist/). */
  root: string;
}

export const ORIGINAL_IMAGE_ANNOTATION = 'netlab.dev/original-image';

const FIELD_ENV: Array<[string, string]> = [
  ['POD_NAME', 'metadata.name'],
  ['POD_NAMESPACE', 'metadata.namespace'],
  ['NODE_NAME', 'spec.nodeName'],
  ['POD_IP', 'status.podIP'],
];

/** A pod whose per-pod fields are `$(VAR)` references, so the workload rules write kubelet-expanded args. */
function templatePod(d: Deployment, container: V1Container): Pod {
  const tpl = d.spec?.template;
  return {
    metadata: { name: '$(POD_NAME)', namespace: '$(POD_NAMESPACE)', labels: tpl?.metadata?.labels, annotations: tpl?.metadata?.annotations },
    spec: { nodeName: '$(NODE_NAME)', containers: [container] },
    status: { podIP: '$(POD_IP)' },
  } as Pod;
}

function rewriteContainer(d: Deployment, c: V1Container, image: NetlabImage): V1Container {
  const pod = templatePod(d, c);
  const rule = WORKLOADS.find((w) => w.matches(c.image ?? '', pod))!;
  const env: V1EnvVar[] = [
    ...FIELD_ENV.filter(([name]) => !(c.env ?? []).some((e) => e.name === name)).map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { fieldPath } } })),
    ...(c.env ?? []),
  ];
  return {
    ...c,
    image: image.tag,
    imagePullPolicy: 'Never',
    command: ['node', `${image.root}/dist/${rule.script}`],
    args: rule.args(pod, podPorts(pod)),
    env,
  };
}

/** The Deployment as kind runs it: netlab's image and script in every container, the rest as written. */
export function kindDeployment(d: Deployment, image: NetlabImage): Deployment {
  const tpl = d.spec!.template!;
  const originals = (tpl.spec?.containers ?? []).map((c) => c.image ?? '').join(',');
  return {
    ...d,
    spec: {
      ...d.spec!,
      template: {
        ...tpl,
        metadata: { ...tpl.metadata, annotations: { ...tpl.metadata?.annotations, [ORIGINAL_IMAGE_ANNOTATION]: originals } },
        spec: { ...tpl.spec!, containers: (tpl.spec?.containers ?? []).map((c) => rewriteContainer(d, c, image)) },
      },
    },
  };
}

/**
 * The AWS Load Balancer Controller adds readiness gates with a mutating webhook when a pod is
 * created. kind runs no such webhook, so netlab adds the same gates to the pod template when it
 * applies the Deployment (pods made from it then carry them from birth). Needs the Services as
 * the API returned them (target group names hash the Service's UID) and the emulator's
 * --cluster-name and zones (`lab-1a`, …), so the names match the ones it computes.
 */
export function withReadinessGates(d: Deployment, namespaceLabels: Record<string, string>, services: readonly Service[], lb: { clusterName: string; zones: readonly string[] }): Deployment {
  const ns = d.metadata?.namespace ?? 'default';
  const tpl = d.spec!.template!;
  const pod = { metadata: { namespace: ns, labels: tpl.metadata?.labels ?? {} }, spec: tpl.spec } as Pod;
  const plans = services.flatMap((service) => {
    const r = planLoadBalancer({ clusterName: lb.clusterName, region: REGION, timeScale: 1, service, nodes: [], pods: [], zones: lb.zones });
    return r.handled && r.plan ? [r.plan] : [];
  });
  const gates = readinessGatesForNewPod(pod as never, namespaceLabels, plans, services as never);
  if (gates.length === 0) return d;
  const have = new Set((tpl.spec?.readinessGates ?? []).map((g) => g.conditionType));
  return {
    ...d,
    spec: {
      ...d.spec!,
      template: { ...tpl, spec: { ...tpl.spec!, readinessGates: [...(tpl.spec?.readinessGates ?? []), ...gates.filter((g) => !have.has(g)).map((conditionType) => ({ conditionType }))] } },
    },
  };
}

/** Every object of a scenario in apply order: Namespaces, Services, then the rewritten Deployments. */
export function kindScenarioObjects(model: LabModel, image: NetlabImage): { namespaces: Namespace[]; services: Service[]; deployments: Deployment[] } {
  return {
    namespaces: model.namespaces.map((n) => n.object),
    services: model.services.map((s) => s.object),
    deployments: model.deployments.map((d) => kindDeployment(d.object, image)),
  };
}
