/**
 * Pods as the Deployment controller, the scheduler and the kubelet would make them: names
 * (`<deployment>-<template hash>-<5 chars>`), spreading over nodes, pod IPs from the node's CIDR,
 * and the Ready condition (containers ready AND every readiness gate True). Pure.
 */
import { randomInt } from 'node:crypto';
import type { Deployment, LabNode, LabPod, Pod } from '../lab/state.js';

/** Kubernetes' rand.SafeEncodeString alphabet: no vowels, no look-alike digits. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The pod-template-hash label: an FNV-32a of the template, spelled with the safe alphabet. */
export function podTemplateHash(d: Deployment): string {
  const digits = String(fnv32a(JSON.stringify(d.spec?.template ?? {})));
  return Array.from(digits, (c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

export function randomSuffix(random: (max: number) => number = randomInt): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SAFE_ALPHABET[random(SAFE_ALPHABET.length)];
  return s;
}

export const podKey = (p: LabPod): string => `${p.object.metadata?.namespace ?? 'default'}/${p.object.metadata?.name ?? ''}`;
export const deploymentKey = (d: Deployment): string => `${d.metadata?.namespace ?? 'default'}/${d.metadata?.name ?? ''}`;

export function ownerOf(p: LabPod): string | null {
  const owner = p.object.metadata?.labels?.['netlab.dev/deployment'];
  return owner ? `${p.object.metadata?.namespace ?? 'default'}/${owner}` : null;
}

function schedulable(node: LabNode, nodes: LabNode[]): boolean {
  if (node.stopped) return false;
  const tainted = (node.object.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule');
  // With no untainted node left, kind's single-node setup schedules on the control plane.
  return !tainted || nodes.every((n) => n === node || n.stopped || (n.object.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule'));
}

/** The default scheduler's spreading, simplified: fewest pods of this Deployment, then fewest pods, then node order. */
export function pickNode(nodes: LabNode[], pods: LabPod[], owner: string): LabNode | null {
  const live = pods.filter((p) => !p.deleting);
  const candidates = nodes.filter((n) => schedulable(n, nodes));
  const count = (n: LabNode, pred: (p: LabPod) => boolean) => live.filter((p) => p.object.spec?.nodeName === n.name && pred(p)).length;
  candidates.sort((a, b) => count(a, (p) => ownerOf(p) === owner) - count(b, (p) => ownerOf(p) === owner) || count(a, () => true) - count(b, () => true) || a.index - b.index);
  return candidates[0] ?? null;
}

/** The lowest free address of the node's /24 from .2 (host-local IPAM's range; .1 is the gateway). */
export function allocatePodIp(node: LabNode, pods: LabPod[]): string | null {
  const used = new Set(pods.filter((p) => p.object.spec?.nodeName === node.name).map((p) => p.object.status?.podIP));
  const base = node.podCIDR.split('.').slice(0, 3).join('.');
  for (let i = 2; i < 255; i++) if (!used.has(`${base}.${i}`)) return `${base}.${i}`;
  return null;
}

/** The Pod object for a new replica of `d` on `node`. */
export function newPod(d: Deployment, name: string, node: LabNode, ip: string, now: string, readinessGates: string[]): Pod {
  const template = structuredClone(d.spec?.template ?? {});
  const ns = d.metadata?.namespace ?? 'default';
  const hash = podTemplateHash(d);
  const gates = [...(template.spec?.readinessGates ?? []).map((g) => g.conditionType), ...readinessGates];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: `${name}-uid`,
      generateName: `${d.metadata?.name}-${hash}-`,
      labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash, 'netlab.dev/deployment': d.metadata?.name ?? '' },
      annotations: template.metadata?.annotations,
      creationTimestamp: now,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${d.metadata?.name}-${hash}`, uid: `${d.metadata?.name}-${hash}-uid`, controller: true }],
    },
    spec: {
      ...(template.spec ?? { containers: [] }),
      nodeName: node.name,
      readinessGates: gates.length ? [...new Set(gates)].map((conditionType) => ({ conditionType })) : undefined,
    },
    status: {
      phase: 'Pending',
      hostIP: node.ip,
      hostIPs: [{ ip: node.ip }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: now,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
      ],
    },
  };
}

/** Set one condition, keeping lastTransitionTime when the status does not change. Returns whether anything changed. */
export function setCondition(pod: Pod, type: string, status: 'True' | 'False', now: string, reason?: string, message?: string): boolean {
  const conditions = ((pod.status ??= {}).conditions ??= []);
  const existing = conditions.find((c) => c.type === type);
  if (existing) {
    if (existing.status === status && existing.reason === reason && existing.message === message) return false;
    if (existing.status !== status) existing.lastTransitionTime = now;
    existing.status = status;
    existing.reason = reason;
    existing.message = message;
    return true;
  }
  conditions.push({ type, status, lastTransitionTime: now, lastProbeTime: undefined, reason, message });
  return true;
}

/** Names of the readiness gates whose condition is not True. */
export function pendingGates(pod: Pod): string[] {
  const conditions = pod.status?.conditions ?? [];
  return (pod.spec?.readinessGates ?? []).map((g) => g.conditionType).filter((t) => conditions.find((c) => c.type === t)?.status !== 'True');
}

/**
 * The kubelet's status update: ContainersReady from the probe (and the process being alive), Ready
 * only when containers are ready, the node is up and every readiness gate is True.
 */
export function updatePodStatus(p: LabPod, nodeReady: boolean, processAlive: boolean, now: string): boolean {
  const pod = p.object;
  let changed = false;
  const containersReady = processAlive && p.probeReady && nodeReady;
  const phase = processAlive ? 'Running' : 'Pending';
  if (pod.status!.phase !== phase) {
    pod.status!.phase = phase;
    changed = true;
  }
  changed = setCondition(pod, 'ContainersReady', containersReady ? 'True' : 'False', now, containersReady ? undefined : 'ContainersNotReady') || changed;
  const gates = pendingGates(pod);
  let reason: string | undefined;
  let message: string | undefined;
  if (!containersReady) reason = 'ContainersNotReady';
  else if (gates.length) {
    reason = 'ReadinessGatesNotReady';
    message = `corresponding condition of pod readiness gate "${gates[0]}" does not exist.`;
    if ((pod.status?.conditions ?? []).some((c) => c.type === gates[0])) message = `the status of pod readiness gate "${gates[0]}" is not "True", but False`;
  }
  const ready = containersReady && gates.length === 0;
  changed = setCondition(pod, 'Ready', ready ? 'True' : 'False', now, reason, message) || changed;
  const statuses = (pod.spec?.containers ?? []).map((c) => ({
    name: c.name,
    image: c.image ?? '',
    imageID: '',
    ready: containersReady,
    restartCount: 0,
    started: processAlive,
    state: processAlive ? { running: { startedAt: pod.status?.startTime } } : { waiting: { reason: p.restarts > 0 ? 'CrashLoopBackOff' : 'ContainerCreating' } },
  }));
  if (JSON.stringify(statuses) !== JSON.stringify(pod.status!.containerStatuses)) {
    pod.status!.containerStatuses = statuses;
    changed = true;
  }
  return changed;
}

export const isPodReady = (p: LabPod): boolean => !p.deleting && (p.object.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Start deleting a pod, as the API server records a deletion: timestamp and grace period. */
export function markDeleting(p: LabPod, now: string): void {
  p.deleting = true;
  const meta = (p.object.metadata ??= {});
  meta.deletionTimestamp ??= now;
  meta.deletionGracePeriodSeconds ??= p.object.spec?.terminationGracePeriodSeconds ?? 30;
}
