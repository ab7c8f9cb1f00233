/** The NLB plan: what the AWS Load Balancer Controller would create for one Service, as plain data. */
import type { V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ServiceEvent } from './annotations.js';

import type { Json } from '../../lab/state.js';

export type { Json };
export type Service = Json<V1Service>;
export type Node = Json<V1Node>;
export type Pod = Json<V1Pod>;
export type Namespace = Json<V1Namespace>;

export type TargetType = 'instance' | 'ip';
export type Scheme = 'internet-facing' | 'internal';
export type HealthCheckProtocol = 'TCP' | 'HTTP' | 'HTTPS';

export interface PlanInput {
  /** The controller's --cluster-name: the lab name. */
  clusterName: string;
  /** Region prefix of the zones, e.g. `lab-1`. */
  region: string;
  /** Lab-wide divisor for health-check and drain timers (1 = real AWS timing). */
  timeScale: number;
  service: Service;
  nodes: readonly Node[];
  /** Pods of the Service's namespace (others are ignored). */
  pods: readonly Pod[];
  /** Zones the load balancer has subnets in; defaults to the zones of the nodes. */
  zones?: readonly string[];
}

/** A duration as configured (AWS seconds) and as the lab runs it (divided by the time scale). */
export interface ScaledSeconds {
  seconds: number;
  effectiveMs: number;
}

export interface HealthCheckPlan {
  protocol: HealthCheckProtocol;
  /** `traffic-port` or a port number, as AWS shows it. */
  port: 'traffic-port' | number;
  /** HTTP(S) only. */
  path: string | null;
  /** HTTP(S) only: AWS's matcher text, e.g. `200-399`. */
  successCodes: string | null;
  interval: ScaledSeconds;
  timeout: ScaledSeconds;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface TargetGroupAttributes {
  deregistrationDelay: ScaledSeconds;
  connectionTermination: boolean;
  preserveClientIp: boolean;
  proxyProtocolV2: boolean;
  stickiness: { enabled: boolean; type: 'source_ip' };
}

export interface TargetPlan {
  /** Instance id (instance targets) or pod IP (ip targets). */
  id: string;
  /** Where packets go: the node's IP for instance targets, the pod IP for ip targets. */
  ip: string;
  port: number;
  /** The port health checks go to. */
  healthCheckPort: number;
  availabilityZone: string;
  node: string;
  /** ip targets: `namespace/name` of the pod. */
  pod: string | null;
}

export interface TargetGroupPlan {
  name: string;
  arn: string;
  protocol: 'TCP' | 'UDP';
  /** The target group's own port (NodePort for instance, targetPort for ip), as the controller sets it. */
  port: number;
  targetType: TargetType;
  healthCheck: HealthCheckPlan;
  attributes: TargetGroupAttributes;
  targets: TargetPlan[];
}

export interface ListenerPlan {
  port: number;
  protocol: 'TCP' | 'UDP';
  targetGroup: string;
}

export interface LoadBalancerPlan {
  service: { namespace: string; name: string; uid: string };
  name: string;
  dnsName: string;
  scheme: Scheme;
  zones: string[];
  crossZone: boolean;
  listeners: ListenerPlan[];
  targetGroups: TargetGroupPlan[];
  timeScale: number;
}

export type PlanResult =
  | { handled: false }
  | { handled: true; plan: LoadBalancerPlan; events: ServiceEvent[] }
  | { handled: true; plan: null; events: ServiceEvent[] };
