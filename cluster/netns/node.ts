/**
 * Nodes of the netns lab: their Kubernetes objects (as `kubectl get node -o json` shows a kind
 * node), `netlab node stop|start`, and where `netlab exec` runs.
 */
import { NetlabError, UsageError } from '../../analyzer/errors.js';
import { nsPod } from '../lab/names.js';
import type { ExecTarget } from '../lab/provider.js';
import type { LabNode, LabState, Node } from '../lab/state.js';
import type { IpBatch, PlannedNode } from './plan.js';
import { ROUTER_NODE_IP } from './plan.js';

export function nodeObject(n: PlannedNode, createdAt: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { ...n.labels }, creationTimestamp: createdAt, uid: `node-${n.index}` },
    spec: {
      podCIDR: n.podCIDR,
      podCIDRs: [n.podCIDR],
      providerID: `netns://${n.netns}`,
      taints: n.taints.length ? n.taints.map((t) => ({ ...t })) : undefined,
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      conditions: [nodeReadyCondition(true, createdAt)],
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'netns://',
        kernelVersion: '',
        kubeProxyVersion: 'iptables',
        kubeletVersion: 'netlab',
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'netlab network namespace',
        systemUUID: '',
      },
    },
  };
}

export function nodeReadyCondition(ready: boolean, at: string) {
  return ready
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: at, lastTransitionTime: at }
    : { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status (netlab node stop).', lastHeartbeatTime: at, lastTransitionTime: at };
}

export function isNodeReady(node: LabNode): boolean {
  return !node.stopped;
}

/**
 * Stopping a node takes its eth0 down on both sides of the fabric (as if the machine lost power);
 * starting it brings the link back and restores the routes the kernel dropped with it.
 */
export function planNodePower(state: LabState, node: LabNode, stopped: boolean): IpBatch[] {
  const fabricPort = `node${node.index}`;
  if (stopped) {
    return [
      { netns: `${state.name}-fabric`, lines: [`link set ${fabricPort} down`] },
      { netns: node.netns, lines: ['link set eth0 down'] },
    ];
  }
  return [
    { netns: `${state.name}-fabric`, lines: [`link set ${fabricPort} up`] },
    {
      netns: node.netns,
      lines: [
        'link set eth0 up',
        `route replace default via ${ROUTER_NODE_IP}`,
        ...state.nodes.filter((o) => o !== node).map((o) => `route replace ${o.podCIDR} via ${o.ip} dev eth0`),
      ],
    },
  ];
}

export function findNode(state: LabState, name: string): LabNode {
  const node = state.nodes.find((n) => n.name === name);
  if (!node) throw new UsageError(`no node '${name}' in lab '${state.name}'`, `nodes: ${state.nodes.map((n) => n.name).join(', ')}`);
  return node;
}

export function resolveExecTarget(state: LabState, target: string, podNamespace: string): ExecTarget {
  if (target === 'client') return { netns: state.client.netns, describe: 'client' };
  if (target === 'router') return { netns: state.router.netns, describe: 'router' };
  const node = state.nodes.find((n) => n.name === target);
  if (node) return { netns: node.netns, describe: `node ${node.name}` };
  const pod = state.pods.find((p) => p.object.metadata?.name === target && p.object.metadata?.namespace === podNamespace && !p.deleting);
  if (pod) return { netns: pod.netns, describe: `pod ${podNamespace}/${target}` };
  // Namespaces other parts of the lab record (the NLB emulator's nodes) are reachable by their suffix.
  const other = `${state.name}-${target}`;
  if (state.resources.namespaces.includes(other) && other !== nsPod(state.name, podNamespace, target)) return { netns: other, describe: target };
  throw new NetlabError(`no node, pod or namespace '${target}' in lab '${state.name}'`, {
    exitCode: 1,
    hint: `targets: client, router, ${state.nodes.map((n) => n.name).join(', ')}, or a pod name (netlab get pods -A)`,
  });
}
