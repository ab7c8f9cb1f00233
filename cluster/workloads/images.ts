/**
 * Which real process stands in for a container image. The lab runs no container runtime: each pod
 * runs one Node script in its namespace. Images are matched in order; the first match wins, and
 * anything else runs the echo server (the write-up's workloads are all HTTP echo servers).
 */
import type { Pod, WorkloadSpec } from '../lab/state.js';

export interface WorkloadRule {
  /** What the rule is for, shown in docs and errors. */
  describe: string;
  matches: (image: string, pod: Pod) => boolean;
  /** Script under dist/ and its arguments for this pod. */
  script: string;
  args: (pod: Pod, ports: number[]) => string[];
}

/** Containers may opt into PROXY protocol explicitly, whatever their image. */
export const PROXY_PROTOCOL_ANNOTATION = 'netlab.dev/proxy-protocol';

const echoArgs = (pod: Pod, ports: number[]) => [
  '--hostname', pod.metadata?.name ?? 'echo',
  ...ports.flatMap((p) => ['--port', String(p)]),
  '--node', pod.spec?.nodeName ?? '',
  '--namespace', pod.metadata?.namespace ?? 'default',
  '--pod-ip', pod.status?.podIP ?? '',
];

export const WORKLOADS: WorkloadRule[] = [
  {
    describe: "Apache with RemoteIPProxyProtocol On (the write-up's gasida/httpd:pp): echo that requires a PROXY header",
    matches: (image, pod) => /httpd:pp$/.test(image) || pod.metadata?.annotations?.[PROXY_PROTOCOL_ANNOTATION] === 'true',
    script: 'cluster/workloads/echo.js',
    args: (pod, ports) => [...echoArgs(pod, ports), '--proxy-protocol'],
  },
  {
    describe: 'an Istio ingress gateway (istio/proxyv2): reads PROXY v2 from the NLB, forwards to env UPSTREAM_SERVICE adding X-Forwarded-For',
    matches: (image) => /(^|\/)(proxyv2|envoy)(:|$)/.test(image),
    script: 'cluster/workloads/gateway.js',
    args: (pod, ports) => [
      '--hostname', pod.metadata?.name ?? 'gateway',
      ...ports.flatMap((p) => ['--port', String(p)]),
      '--namespace', pod.metadata?.namespace ?? 'default',
      '--upstream', pod.spec?.containers?.[0]?.env?.find((e) => e.name === 'UPSTREAM_SERVICE')?.value ?? '',
    ],
  },
  {
    describe: 'any other image: the echoserver (k8s.gcr.io/echoserver) answer',
    matches: () => true,
    script: 'cluster/workloads/echo.js',
    args: echoArgs,
  },
];

/** The container ports a pod serves (80 when the manifest lists none, like an httpd image). */
export function podPorts(pod: Pod): number[] {
  const ports = (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort));
  return ports.length ? [...new Set(ports)] : [80];
}

export function workloadFor(pod: Pod): WorkloadSpec & { script: string } {
  const image = pod.spec?.containers?.[0]?.image ?? '';
  const ports = podPorts(pod);
  const rule = WORKLOADS.find((w) => w.matches(image, pod))!;
  return { kind: rule.describe, script: rule.script, args: rule.args(pod, ports) };
}
