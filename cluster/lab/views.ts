/**
 * kubectl's views of the lab's objects: the same columns, the same spacing (three spaces between
 * left-aligned columns), the same `-o json` List. Pure: state + clock → text.
 */
import type { LabState } from './state.js';
import { pendingGates } from '../model/pods.js';

export type Resource = 'nodes' | 'pods' | 'svc' | 'ep';

const ALIASES: Record<string, Resource> = {
  node: 'nodes', nodes: 'nodes', no: 'nodes',
  pod: 'pods', pods: 'pods', po: 'pods',
  svc: 'svc', service: 'svc', services: 'svc',
  ep: 'ep', endpoints: 'ep',
};

export function resourceOf(name: string): Resource | null {
  return ALIASES[name] ?? null;
}

/** kubectl's HumanDuration for the AGE column. */
export function age(from: string | undefined, now: number): string {
  if (!from) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(from)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return `${d}d`;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export interface GetOptions {
  namespace: string;
  allNamespaces: boolean;
  output: 'table' | 'wide' | 'json';
}

function items(state: LabState, resource: Resource, opts: GetOptions): unknown[] {
  const inNs = (ns: string | undefined) => opts.allNamespaces || (ns ?? 'default') === opts.namespace;
  switch (resource) {
    case 'nodes':
      return state.nodes.map((n) => n.object);
    case 'pods':
      return state.pods.filter((p) => inNs(p.object.metadata?.namespace)).map((p) => p.object);
    case 'svc':
      return state.objects.services.filter((s) => inNs(s.metadata?.namespace));
    case 'ep':
      return state.endpoints.filter((e) => inNs(e.metadata?.namespace));
  }
}

export function renderGet(state: LabState, resource: Resource, opts: GetOptions, now = Date.now()): string {
  if (opts.output === 'json') {
    return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items(state, resource, opts), metadata: { resourceVersion: '' } }, null, 4);
  }
  const wide = opts.output === 'wide';
  const nsCol = opts.allNamespaces && resource !== 'nodes';
  let head: string[] = [];
  let rows: string[][] = [];
  const withNs = (ns: string | undefined, row: string[]) => (nsCol ? [ns ?? 'default', ...row] : row);

  if (resource === 'nodes') {
    head = ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', ...(wide ? ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'] : [])];
    rows = state.nodes.map((n) => {
      const labels = n.object.metadata?.labels ?? {};
      const roles = Object.keys(labels).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length));
      const ready = n.object.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const status = ready ? 'Ready' : 'NotReady';
      return [n.name, status, roles.join(',') || '<none>', age(n.object.metadata?.creationTimestamp, now), 'netlab', ...(wide ? [n.ip, '<none>', 'netlab network namespace', '<none>', 'netns://'] : [])];
    });
  } else if (resource === 'pods') {
    head = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : [])];
    rows = state.pods
      .filter((p) => opts.allNamespaces || (p.object.metadata?.namespace ?? 'default') === opts.namespace)
      .map((p) => {
        const containers = p.object.status?.containerStatuses ?? [];
        const readyCount = containers.filter((c) => c.ready).length;
        const waiting = containers.find((c) => c.state?.waiting)?.state?.waiting?.reason;
        const status = p.deleting ? 'Terminating' : (waiting ?? ((p.object.status?.phase ?? 'Pending') === 'Running' ? 'Running' : 'ContainerCreating'));
        const gates = p.object.spec?.readinessGates ?? [];
        const gateCol = gates.length ? `${gates.length - pendingGates(p.object).length}/${gates.length}` : '<none>';
        return withNs(p.object.metadata?.namespace, [
          p.object.metadata?.name ?? '',
          `${readyCount}/${Math.max(containers.length, p.object.spec?.containers?.length ?? 1)}`,
          status,
          String(p.restarts),
          age(p.object.metadata?.creationTimestamp, now),
          ...(wide ? [p.object.status?.podIP ?? '<none>', p.object.spec?.nodeName ?? '<none>', '<none>', gateCol] : []),
        ]);
      });
  } else if (resource === 'svc') {
    head = ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', ...(wide ? ['SELECTOR'] : [])];
    rows = state.objects.services
      .filter((s) => opts.allNamespaces || (s.metadata?.namespace ?? 'default') === opts.namespace)
      .map((s) => {
        const type = s.spec?.type ?? 'ClusterIP';
        const ingress = s.status?.loadBalancer?.ingress ?? [];
        const external = type === 'LoadBalancer' ? (ingress.map((i) => i.ip ?? i.hostname).filter(Boolean).join(',') || '<pending>') : '<none>';
        const ports = (s.spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
        const selector = Object.entries(s.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
        return withNs(s.metadata?.namespace, [s.metadata?.name ?? '', type, s.spec?.clusterIP ?? '<none>', external, ports, age(s.metadata?.creationTimestamp, now), ...(wide ? [selector] : [])]);
      });
  } else {
    head = ['NAME', 'ENDPOINTS', 'AGE'];
    rows = state.endpoints
      .filter((e) => opts.allNamespaces || (e.metadata?.namespace ?? 'default') === opts.namespace)
      .map((e) => {
        const all = (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).map((p) => `${a.ip}:${p.port}`)));
        const shown = all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',') || '<none>';
        const svc = state.objects.services.find((s) => s.metadata?.name === e.metadata?.name && s.metadata?.namespace === e.metadata?.namespace);
        return withNs(e.metadata?.namespace, [e.metadata?.name ?? '', shown, age(svc?.metadata?.creationTimestamp, now)]);
      });
  }
  if (nsCol) head = ['NAMESPACE', ...head];
  if (rows.length === 0) return opts.allNamespaces ? 'No resources found' : `No resources found in ${opts.namespace} namespace.`;
  return table(head, rows);
}

/** `netlab status`: one screen with nodes, pods, services, MetalLB leaders and plug-in state. */
export function renderStatus(state: LabState, controllerAlive: boolean, now = Date.now()): string {
  const all: GetOptions = { namespace: 'default', allNamespaces: true, output: 'wide' };
  const leaders = Object.entries(state.metallb.leaders).map(([vip, node]) => [vip, node]);
  const heartbeat = state.controller.heartbeat ? `${age(state.controller.heartbeat, now)} ago` : 'never';
  return [
    `lab ${state.name} (${state.provider}) ${state.phase}; controller pid ${state.controller.pid ?? '-'} ${controllerAlive ? 'running' : 'NOT RUNNING'}, last pass ${heartbeat}`,
    '',
    renderGet(state, 'nodes', all, now),
    '',
    renderGet(state, 'pods', all, now),
    '',
    renderGet(state, 'svc', all, now),
    '',
    'MetalLB L2 leaders:',
    leaders.length ? table(['VIP', 'NODE'], leaders) : '  none',
    ...(Object.keys(state.extensions).length ? ['', `plug-in state: ${Object.keys(state.extensions).join(', ')} (netlab status --json)`] : []),
  ].join('\n');
}

