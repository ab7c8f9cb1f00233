/**
 * Service (+ annotations) + nodes + pods → the load balancer the AWS Load Balancer Controller would
 * build. Pure: same input, same plan; nothing here touches the system.
 */
import {
  ANNOTATION,
  NLB_LOAD_BALANCER_CLASS,
  Problems,
  boolAnnotation,
  int32Annotation,
  mapAnnotation,
  parseBool,
  parseSuccessCodes,
} from './annotations.js';
import { instanceId, loadBalancerDnsName, loadBalancerName, targetGroupArn, targetGroupName } from './names.js';
import type {
  HealthCheckPlan,
  Node as V1Node,
  Pod as V1Pod,
  Service as V1Service,
  HealthCheckProtocol,
  LoadBalancerPlan,
  PlanInput,
  PlanResult,
  ScaledSeconds,
  Scheme,
  TargetGroupAttributes,
  TargetGroupPlan,
  TargetPlan,
  TargetType,
} from './types.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** The fields that decide who owns a LoadBalancer Service (client-node objects and JSON alike). */
export interface ServiceOwnership {
  spec?: { type?: string; loadBalancerClass?: string | null };
  metadata?: { annotations?: Record<string, string> };
}

/** Whether the AWS Load Balancer Controller (and so this emulator, not MetalLB) owns this Service. */
export function isNlbService(service: ServiceOwnership): boolean {
  if (service.spec?.type !== 'LoadBalancer') return false;
  const cls = service.spec.loadBalancerClass;
  if (cls !== undefined && cls !== null && cls !== '') return cls === NLB_LOAD_BALANCER_CLASS;
  const lbType = service.metadata?.annotations?.[ANNOTATION.type];
  return lbType === 'external' || lbType === 'nlb-ip';
}

function scaled(seconds: number, timeScale: number): ScaledSeconds {
  return { seconds, effectiveMs: Math.round((seconds * 1000) / timeScale) };
}

function nodeZone(node: V1Node | undefined): string {
  return node?.metadata?.labels?.[ZONE_LABEL] ?? '';
}

function nodeInternalIp(node: V1Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

function buildScheme(annotations: Record<string, string>, problems: Problems): Scheme {
  const raw = annotations[ANNOTATION.scheme];
  if (raw !== undefined) {
    if (raw === 'internal' || raw === 'internet-facing') return raw;
    problems.buildError(ANNOTATION.scheme, raw, 'unknown scheme (use "internal" or "internet-facing")');
  }
  // The controller's default for Services is internal; the legacy annotation can only say so again.
  return boolAnnotation(annotations, ANNOTATION.internal, true, problems) ? 'internal' : 'internet-facing';
}

function buildTargetType(annotations: Record<string, string>, problems: Problems): TargetType {
  if (annotations[ANNOTATION.type] === 'nlb-ip') return 'ip';
  const raw = annotations[ANNOTATION.targetType];
  if (raw === undefined || raw === 'instance') return 'instance';
  if (raw === 'ip') return 'ip';
  problems.buildError(ANNOTATION.targetType, raw, 'unsupported target type (use "instance" or "ip")');
  return 'instance';
}

const KNOWN_LB_ATTRIBUTES = new Set([
  'load_balancing.cross_zone.enabled',
  'deletion_protection.enabled',
  'access_logs.s3.enabled',
  'access_logs.s3.bucket',
  'access_logs.s3.prefix',
  'dns_record.client_routing_policy',
  'ipv6.deny_all_igw_traffic',
]);

function buildCrossZone(annotations: Record<string, string>, problems: Problems): boolean {
  const attrs = mapAnnotation(annotations, ANNOTATION.attributes, problems);
  for (const key of attrs.keys()) {
    if (!KNOWN_LB_ATTRIBUTES.has(key)) problems.validationError(`Load balancer attribute key '${key}' is not recognized`);
  }
  const deprecated = annotations[ANNOTATION.crossZoneDeprecated];
  const fromDeprecated = deprecated === undefined ? undefined : boolAnnotation(annotations, ANNOTATION.crossZoneDeprecated, false, problems);
  const rawAttr = attrs.get('load_balancing.cross_zone.enabled');
  if (rawAttr === undefined) return fromDeprecated ?? false;
  const fromAttr = parseBool(rawAttr);
  if (fromAttr === undefined) {
    problems.validationError(`Load balancer attribute 'load_balancing.cross_zone.enabled' must be true or false, not '${rawAttr}'`);
    return fromDeprecated ?? false;
  }
  if (fromDeprecated !== undefined && fromDeprecated !== fromAttr) {
    problems.buildError(ANNOTATION.crossZoneDeprecated, deprecated!, `conflicts with load_balancing.cross_zone.enabled=${rawAttr} in ${ANNOTATION.attributes}`);
  }
  return fromAttr;
}

const TG_BOOL_ATTRIBUTES = [
  'deregistration_delay.connection_termination.enabled',
  'preserve_client_ip.enabled',
  'proxy_protocol_v2.enabled',
  'stickiness.enabled',
] as const;
const KNOWN_TG_ATTRIBUTES = new Set<string>([
  ...TG_BOOL_ATTRIBUTES,
  'deregistration_delay.timeout_seconds',
  'stickiness.type',
  'load_balancing.cross_zone.enabled',
  'target_health_state.unhealthy.connection_termination.enabled',
  'target_health_state.unhealthy.draining_interval_seconds',
  'target_failover.on_deregistration',
  'target_failover.on_unhealthy',
]);

function buildTargetGroupAttributes(
  annotations: Record<string, string>,
  targetType: TargetType,
  timeScale: number,
  problems: Problems,
): TargetGroupAttributes {
  const raw = mapAnnotation(annotations, ANNOTATION.targetGroupAttributes, problems);
  for (const key of raw.keys()) {
    if (!KNOWN_TG_ATTRIBUTES.has(key)) problems.validationError(`Target group attribute key '${key}' is not recognized`);
  }
  const bools = new Map<string, boolean>();
  for (const key of TG_BOOL_ATTRIBUTES) {
    const value = raw.get(key);
    if (value === undefined) continue;
    const parsed = parseBool(value);
    if (parsed === undefined) problems.buildError(ANNOTATION.targetGroupAttributes, `${key}=${value}`, `failed to parse attribute ${key}: not a boolean`);
    else bools.set(key, parsed);
  }
  let proxyProtocolV2 = bools.get('proxy_protocol_v2.enabled') ?? false;
  const pp = annotations[ANNOTATION.proxyProtocol];
  if (pp !== undefined) {
    if (pp === '*') proxyProtocolV2 = true;
    else problems.buildError(ANNOTATION.proxyProtocol, pp, 'invalid value for Load Balancer proxy protocol v2 annotation, only value currently supported is *');
  }
  let delaySeconds = 300;
  const rawDelay = raw.get('deregistration_delay.timeout_seconds');
  if (rawDelay !== undefined) {
    if (!/^\d+$/.test(rawDelay) || Number(rawDelay) > 3600) {
      problems.validationError(`Target group attribute deregistration_delay.timeout_seconds must be an integer from 0 to 3600, not '${rawDelay}'`);
    } else delaySeconds = Number(rawDelay);
  }
  const stickinessType = raw.get('stickiness.type');
  if (stickinessType !== undefined && stickinessType !== 'source_ip') {
    problems.validationError(`Target group attribute stickiness.type '${stickinessType}' is not supported by network load balancers (use source_ip)`);
  }
  return {
    deregistrationDelay: scaled(delaySeconds, timeScale),
    connectionTermination: bools.get('deregistration_delay.connection_termination.enabled') ?? false,
    preserveClientIp: bools.get('preserve_client_ip.enabled') ?? targetType === 'instance',
    proxyProtocolV2,
    stickiness: { enabled: bools.get('stickiness.enabled') ?? false, type: 'source_ip' },
  };
}

interface HealthCheckDefaults {
  protocol: HealthCheckProtocol;
  port: 'traffic-port' | number;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

function buildHealthCheck(
  service: V1Service,
  targetType: TargetType,
  timeScale: number,
  problems: Problems,
): HealthCheckPlan {
  const annotations = service.metadata?.annotations ?? {};
  const local = targetType === 'instance' && service.spec?.externalTrafficPolicy === 'Local';
  const defaults: HealthCheckDefaults = local
    ? { protocol: 'HTTP', port: service.spec?.healthCheckNodePort ?? 0, path: '/healthz', intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 2 }
    : { protocol: 'TCP', port: 'traffic-port', path: '/', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };
  if (local && defaults.port === 0) {
    problems.buildError('spec.healthCheckNodePort', '', 'externalTrafficPolicy Local needs a healthCheckNodePort; the lab allocates one when the Service is applied');
  }

  let protocol = defaults.protocol;
  const rawProtocol = annotations[ANNOTATION.hcProtocol];
  if (rawProtocol !== undefined) {
    const upper = rawProtocol.toUpperCase();
    if (upper === 'TCP' || upper === 'HTTP' || upper === 'HTTPS') protocol = upper;
    else problems.buildError(ANNOTATION.hcProtocol, rawProtocol, 'unsupported health check protocol (use TCP, HTTP or HTTPS)');
  }

  let port = defaults.port;
  const rawPort = annotations[ANNOTATION.hcPort];
  if (rawPort !== undefined && rawPort !== 'traffic-port') {
    if (/^\d+$/.test(rawPort)) port = Number(rawPort);
    else {
      const named = service.spec?.ports?.find((p) => p.name === rawPort);
      if (!named) problems.buildError(ANNOTATION.hcPort, rawPort, 'failed to resolve healthCheckPort: no Service port has this name');
      else if (targetType === 'instance') port = named.nodePort ?? 0;
      else if (typeof named.targetPort === 'number') port = named.targetPort;
      else problems.buildError(ANNOTATION.hcPort, rawPort, 'cannot use named healthCheckPort for IP TargetType when service\'s targetPort is a named port');
    }
  } else if (rawPort === 'traffic-port') port = 'traffic-port';
  if (typeof port === 'number' && (port < 1 || port > 65535) && !(local && port === 0)) {
    problems.validationError(`Health check port ${port} is out of range 1-65535`);
  }

  const interval = int32Annotation(annotations, ANNOTATION.hcInterval, defaults.intervalSeconds, problems);
  const timeout = int32Annotation(annotations, ANNOTATION.hcTimeout, defaults.timeoutSeconds, problems);
  const healthy = int32Annotation(annotations, ANNOTATION.hcHealthy, defaults.healthyThreshold, problems);
  const unhealthy = int32Annotation(annotations, ANNOTATION.hcUnhealthy, defaults.unhealthyThreshold, problems);
  // The ELBv2 API's limits for network load balancer target groups.
  if (interval < 5 || interval > 300) problems.validationError(`Health check interval ${interval} must be from 5 to 300 seconds`);
  if (timeout < 2 || timeout > 120) problems.validationError(`Health check timeout ${timeout} must be from 2 to 120 seconds`);
  if (timeout > interval) problems.validationError(`Health check timeout ${timeout} must not be greater than the interval ${interval}`);
  if (healthy < 2 || healthy > 10) problems.validationError(`Healthy threshold count ${healthy} must be from 2 to 10`);
  if (unhealthy < 2 || unhealthy > 10) problems.validationError(`Unhealthy threshold count ${unhealthy} must be from 2 to 10`);

  const http = protocol !== 'TCP';
  let successCodes: string | null = null;
  if (http) {
    successCodes = annotations[ANNOTATION.hcSuccessCodes] ?? '200-399';
    if (!parseSuccessCodes(successCodes)) {
      problems.validationError(`Health check success codes '${successCodes}' must be codes or ranges from 200 to 599, e.g. 200,202 or 200-399`);
      successCodes = '200-399';
    }
  }
  const path = http ? (annotations[ANNOTATION.hcPath] ?? defaults.path) : null;
  if (path !== null && !path.startsWith('/')) problems.validationError(`Health check path '${path}' must start with /`);

  return {
    protocol,
    port,
    path,
    successCodes,
    interval: scaled(interval, timeScale),
    timeout: scaled(timeout, timeScale),
    healthyThreshold: healthy,
    unhealthyThreshold: unhealthy,
  };
}

/** Pods the controller registers: selected, running, with an IP, not terminating, containers ready. */
export function registrablePods(service: V1Service, pods: readonly V1Pod[]): V1Pod[] {
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const namespace = service.metadata?.namespace ?? 'default';
  return pods.filter((pod) => {
    if ((pod.metadata?.namespace ?? 'default') !== namespace) return false;
    const labels = pod.metadata?.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
    if (pod.metadata?.deletionTimestamp || !pod.status?.podIP || pod.status.phase !== 'Running') return false;
    // A pod held back only by its own target-health readiness gate is registered anyway: that is
    // how the gate ever turns True.
    const conditions = pod.status.conditions ?? [];
    const containersReady = conditions.find((c) => c.type === 'ContainersReady');
    if (containersReady) return containersReady.status === 'True';
    return conditions.find((c) => c.type === 'Ready')?.status === 'True';
  });
}

type V1ServicePort = NonNullable<NonNullable<V1Service['spec']>['ports']>[number];

function resolveTargetPort(port: V1ServicePort, pod: V1Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    const found = c.ports?.find((p) => p.name === target);
    if (found) return found.containerPort;
  }
  return undefined;
}

function buildTargets(
  input: PlanInput,
  port: V1ServicePort,
  targetType: TargetType,
  healthCheck: HealthCheckPlan,
  nodesByName: Map<string, V1Node>,
): TargetPlan[] {
  const targets: TargetPlan[] = [];
  if (targetType === 'instance') {
    for (const node of input.nodes) {
      const labels = node.metadata?.labels ?? {};
      if (EXCLUDE_LABEL in labels) continue;
      const ip = nodeInternalIp(node);
      const name = node.metadata?.name ?? '';
      if (!ip || !port.nodePort) continue;
      targets.push({
        id: instanceId(input.clusterName, name, node.spec?.providerID),
        ip,
        port: port.nodePort,
        healthCheckPort: healthCheck.port === 'traffic-port' ? port.nodePort : healthCheck.port,
        availabilityZone: nodeZone(node),
        node: name,
        pod: null,
      });
    }
  } else {
    for (const pod of registrablePods(input.service, input.pods)) {
      const targetPort = resolveTargetPort(port, pod);
      if (targetPort === undefined) continue;
      const nodeName = pod.spec?.nodeName ?? '';
      targets.push({
        id: pod.status!.podIP!,
        ip: pod.status!.podIP!,
        port: targetPort,
        healthCheckPort: healthCheck.port === 'traffic-port' ? targetPort : healthCheck.port,
        availabilityZone: nodeZone(nodesByName.get(nodeName)),
        node: nodeName,
        pod: `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`,
      });
    }
  }
  return targets.sort((a, b) => (a.id === b.id ? a.port - b.port : a.id < b.id ? -1 : 1));
}

export function planLoadBalancer(input: PlanInput): PlanResult {
  const { service } = input;
  if (!isNlbService(service)) return { handled: false };
  const annotations = service.metadata?.annotations ?? {};
  const namespace = service.metadata?.namespace ?? 'default';
  const name = service.metadata?.name ?? '';
  const uid = service.metadata?.uid ?? '';
  const problems = new Problems();

  const scheme = buildScheme(annotations, problems);
  const targetType = buildTargetType(annotations, problems);
  const crossZone = buildCrossZone(annotations, problems);
  const healthCheck = buildHealthCheck(service, targetType, input.timeScale, problems);
  const attributes = buildTargetGroupAttributes(annotations, targetType, input.timeScale, problems);
  const nodesByName = new Map(input.nodes.map((n) => [n.metadata?.name ?? '', n]));

  const listeners: LoadBalancerPlan['listeners'] = [];
  const targetGroups: TargetGroupPlan[] = [];
  for (const port of service.spec?.ports ?? []) {
    const protocol = port.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      problems.buildError(`spec.ports[${port.name ?? port.port}].protocol`, protocol, 'network load balancers support TCP and UDP listeners only');
      continue;
    }
    if (targetType === 'instance' && !port.nodePort) {
      problems.buildError(`spec.ports[${port.name ?? port.port}].nodePort`, '', 'unable to support instance target type with an unallocated NodePort');
      continue;
    }
    if (attributes.proxyProtocolV2 && protocol === 'UDP') {
      problems.validationError(`Proxy protocol v2 is not supported for UDP target groups (port ${port.port})`);
    }
    const tgPort = targetType === 'instance' ? port.nodePort! : typeof port.targetPort === 'number' ? port.targetPort : 1;
    const tgName = targetGroupName({
      clusterName: input.clusterName,
      namespace,
      name,
      uid,
      servicePort: port.port,
      targetGroupPort: tgPort,
      targetType,
      protocol,
      healthCheckProtocol: healthCheck.protocol,
      healthCheckIntervalSeconds: healthCheck.interval.seconds,
    });
    listeners.push({ port: port.port, protocol, targetGroup: tgName });
    targetGroups.push({
      name: tgName,
      arn: targetGroupArn(input.region, tgName),
      protocol,
      port: tgPort,
      targetType,
      healthCheck,
      attributes,
      targets: buildTargets(input, port, targetType, healthCheck, nodesByName),
    });
  }

  const zones = [...new Set(input.zones ?? input.nodes.map((n) => nodeZone(n)).filter((z) => z !== ''))].sort();
  if (zones.length === 0) {
    problems.build.push('unable to resolve at least one subnet: no node carries topology.kubernetes.io/zone (a lab needs worker nodes: netlab up --nodes 2 or more)');
  }
  if (!problems.empty) return { handled: true, plan: null, events: problems.events() };

  const lbName = loadBalancerName(input.clusterName, namespace, name, uid, scheme);
  return {
    handled: true,
    plan: {
      service: { namespace, name, uid },
      name: lbName,
      dnsName: loadBalancerDnsName(lbName, input.region),
      scheme,
      zones,
      crossZone,
      listeners,
      targetGroups,
      timeScale: input.timeScale,
    },
    events: [{ type: 'Normal', reason: 'SuccessfullyReconciled', message: 'Successfully reconciled' }],
  };
}

/** Holds a deleted pod that is a draining target until its deregistration delay ends (both emulators). */
export const DRAIN_FINALIZER = 'netlab.dev/nlb-draining';

/** The readiness-gate condition type the controller's webhook injects for a target group. */
export function readinessGateType(targetGroupName: string): string {
  return `target-health.elbv2.k8s.aws/${targetGroupName}`;
}

export const READINESS_GATE_NAMESPACE_LABEL = 'elbv2.k8s.aws/pod-readiness-gate-inject';

/**
 * The readiness gates the controller's webhook adds to a pod at creation: one per ip-target target
 * group of a Service that selects it, when the pod's namespace opted in.
 */
export function readinessGatesForNewPod(
  pod: V1Pod,
  namespaceLabels: Record<string, string>,
  plans: readonly LoadBalancerPlan[],
  services: readonly V1Service[],
): string[] {
  if (namespaceLabels[READINESS_GATE_NAMESPACE_LABEL] !== 'enabled') return [];
  const namespace = pod.metadata?.namespace ?? 'default';
  const labels = pod.metadata?.labels ?? {};
  const gates: string[] = [];
  for (const plan of plans) {
    if (plan.service.namespace !== namespace) continue;
    const service = services.find((s) => (s.metadata?.namespace ?? 'default') === namespace && s.metadata?.name === plan.service.name);
    const selector = service?.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
    for (const tg of plan.targetGroups) if (tg.targetType === 'ip') gates.push(readinessGateType(tg.name));
  }
  return gates.sort();
}
