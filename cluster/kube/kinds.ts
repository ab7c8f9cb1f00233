/**
 * The Kubernetes kinds netlab reads and writes through an API, with their REST names, so the
 * common ones need no discovery round trip. Objects are typed as they read back from JSON
 * (`Json<V1…>`: timestamps are RFC 3339 strings), like the rest of netlab's Kubernetes objects.
 */
import type {
  CoreV1Event,
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1EndpointSlice,
  V1Namespace,
  V1Node,
  V1ObjectMeta,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { Json } from '../lab/state.js';

/** Any object the API returns: what every kind shares. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Json<V1ObjectMeta>;
  [field: string]: unknown;
}

/** MetalLB's custom objects (metallb.io/v1beta1), only the fields netlab sets. */
export interface IPAddressPool extends KubeObject {
  spec?: { addresses?: string[]; autoAssign?: boolean; avoidBuggyIPs?: boolean };
}
export interface L2Advertisement extends KubeObject {
  spec?: { ipAddressPools?: string[]; nodeSelectors?: unknown[]; interfaces?: string[] };
}

export interface KindTypes {
  Namespace: Json<V1Namespace>;
  Node: Json<V1Node>;
  Pod: Json<V1Pod>;
  Service: Json<V1Service>;
  EndpointSlice: Json<V1EndpointSlice>;
  Deployment: Json<V1Deployment>;
  DaemonSet: Json<V1DaemonSet>;
  ConfigMap: Json<V1ConfigMap>;
  Event: Json<CoreV1Event>;
  IPAddressPool: IPAddressPool;
  L2Advertisement: L2Advertisement;
}
export type KindName = keyof KindTypes;

export interface KindInfo {
  kind: string;
  apiVersion: string;
  /** The resource name in URLs, e.g. `endpointslices`. */
  plural: string;
  namespaced: boolean;
  /** Whether `status` is a subresource (writes to the object ignore status, /status writes only status). */
  statusSubresource: boolean;
}

export const KINDS: Record<KindName, KindInfo> = {
  Namespace: { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', namespaced: false, statusSubresource: true },
  Node: { kind: 'Node', apiVersion: 'v1', plural: 'nodes', namespaced: false, statusSubresource: true },
  Pod: { kind: 'Pod', apiVersion: 'v1', plural: 'pods', namespaced: true, statusSubresource: true },
  Service: { kind: 'Service', apiVersion: 'v1', plural: 'services', namespaced: true, statusSubresource: true },
  EndpointSlice: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true, statusSubresource: false },
  Deployment: { kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments', namespaced: true, statusSubresource: true },
  DaemonSet: { kind: 'DaemonSet', apiVersion: 'apps/v1', plural: 'daemonsets', namespaced: true, statusSubresource: true },
  ConfigMap: { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', namespaced: true, statusSubresource: false },
  Event: { kind: 'Event', apiVersion: 'v1', plural: 'events', namespaced: true, statusSubresource: false },
  IPAddressPool: { kind: 'IPAddressPool', apiVersion: 'metallb.io/v1beta1', plural: 'ipaddresspools', namespaced: true, statusSubresource: false },
  L2Advertisement: { kind: 'L2Advertisement', apiVersion: 'metallb.io/v1beta1', plural: 'l2advertisements', namespaced: true, statusSubresource: false },
};

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection URL of a kind (`namespace` ignored for cluster-scoped kinds; omitted = all namespaces). */
export function collectionPath(info: KindInfo, namespace?: string): string {
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(info.apiVersion)}${ns}/${info.plural}`;
}

export function objectPath(info: KindInfo, namespace: string | undefined, name: string, subresource?: 'status'): string {
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(o: { metadata?: { namespace?: string; name?: string } }): string {
  return o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : (o.metadata?.name ?? '');
}
