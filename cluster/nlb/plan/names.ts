/**
 * Names derived the way the AWS Load Balancer Controller derives them: a SHA-256 over the cluster
 * name, the Service UID and the settings that force a replacement, shown as
 * `k8s-<namespace, 8 chars>-<name, 8 chars>-<10 hex>` with non-alphanumerics removed.
 */
import { createHash } from 'node:crypto';

function sanitized(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, '');
}

function k8sName(namespace: string, name: string, hashParts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of hashParts) hash.update(part);
  return `k8s-${sanitized(namespace).slice(0, 8)}-${sanitized(name).slice(0, 8)}-${hash.digest('hex').slice(0, 10)}`;
}

export function loadBalancerName(clusterName: string, namespace: string, name: string, uid: string, scheme: string): string {
  return k8sName(namespace, name, [clusterName, uid, scheme]);
}

export interface TargetGroupNameInput {
  clusterName: string;
  namespace: string;
  name: string;
  uid: string;
  servicePort: number;
  targetGroupPort: number;
  targetType: string;
  protocol: string;
  healthCheckProtocol: string;
  healthCheckIntervalSeconds: number;
}

export function targetGroupName(i: TargetGroupNameInput): string {
  return k8sName(i.namespace, i.name, [
    i.clusterName,
    i.uid,
    String(i.targetGroupPort),
    String(i.servicePort),
    i.targetType,
    i.protocol,
    i.healthCheckProtocol,
    String(i.healthCheckIntervalSeconds),
  ]);
}

/** NLB DNS names read `<lb name>-<16 hex>.elb.<region>.amazonaws.com`. */
export function loadBalancerDnsName(lbName: string, region: string): string {
  const suffix = createHash('sha256').update(`dns/${lbName}`).digest('hex').slice(0, 16);
  return `${lbName}-${suffix}.elb.${region}.amazonaws.com`;
}

/** EC2-style instance id for a lab node (the node's providerID wins when it carries one). */
export function instanceId(clusterName: string, nodeName: string, providerId: string | undefined): string {
  const fromProvider = providerId === undefined ? null : /(i-[0-9a-f]{8,17})$/.exec(providerId);
  if (fromProvider) return fromProvider[1]!;
  return `i-${createHash('sha256').update(`${clusterName}/${nodeName}`).digest('hex').slice(0, 17)}`;
}

export function targetGroupArn(region: string, tgName: string): string {
  const id = createHash('sha256').update(`tg/${tgName}`).digest('hex').slice(0, 16);
  return `arn:aws:elasticloadbalancing:${region}:000000000000:targetgroup/${tgName}/${id}`;
}
