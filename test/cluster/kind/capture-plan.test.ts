import { describe, expect, it } from 'vitest';
import { crictlPidArgs, kindCapturePlan, type KindCaptureSubject } from '../../../cluster/kind/capture-plan.js';
import { DEFAULT_FILTER } from '../../../cluster/capture/points.js';

const subjects: KindCaptureSubject[] = [
  { target: { name: 'client', role: 'client', netns: 'lab1-client', node: null, pod: null, namespace: null, interfaces: ['eth0'] }, container: 'lab1-client' },
  { target: { name: 'nlb', role: 'lb', netns: 'lab1-nlb', node: null, pod: null, namespace: null, interfaces: ['eth0'] }, container: 'lab1-nlb' },
  { target: { name: 'lab1-worker', role: 'node', netns: 'lab1-worker', node: 'lab1-worker', pod: null, namespace: null, interfaces: ['eth0'] }, container: 'lab1-worker' },
  { target: { name: 'deploy-echo-7d9f-abcde', role: 'pod', netns: 'lab1-worker/pod', node: 'lab1-worker', pod: 'deploy-echo-7d9f-abcde', namespace: 'default', interfaces: ['eth0'] }, container: 'lab1-worker', pod: { node: 'lab1-worker', pid: 4242 } },
];

describe('kindCapturePlan', () => {
  const plan = kindCapturePlan('lab1', 'r1', 'netlab:0.1.0-abc123', subjects, DEFAULT_FILTER);

  it('captures nodes, emulator and client from a helper joined to their network namespace', () => {
    expect(plan.map((p) => ['docker', ...p.capture].join(' '))).toMatchSnapshot();
    expect(plan[2]!.capture).toEqual(expect.arrayContaining(['--network', 'container:lab1-worker', '--entrypoint', 'tcpdump']));
  });

  it("enters a pod's network namespace from its node's pid namespace", () => {
    const pod = plan[3]!;
    expect(pod.capture).toEqual(expect.arrayContaining(['--pid', 'container:lab1-worker', '--cap-add', 'SYS_ADMIN', '--entrypoint', 'nsenter']));
    expect(pod.capture).not.toContain('--privileged');
    expect(pod.capture.slice(pod.capture.indexOf('netlab:0.1.0-abc123') + 1, pod.capture.indexOf('netlab:0.1.0-abc123') + 6)).toEqual(['-t', '4242', '-n', 'tcpdump', '-i']);
    expect(pod.links.slice(-7)).toEqual(['-t', '4242', '-n', 'ip', '-j', 'link', 'show']);
  });

  it('streams pcap to stdout and names each helper for docker kill', () => {
    for (const p of plan) {
      expect(p.capture.slice(-3, -1)).toEqual(['-w', '-']);
      expect(p.capture.at(-1)).toBe(DEFAULT_FILTER);
      expect(p.capture).toContain(p.helper);
    }
    expect(new Set(plan.map((p) => p.helper)).size).toBe(plan.length);
    expect(plan.map((p) => p.file)).toEqual(['client.pcap', 'nlb.pcap', 'lab1-worker.pcap', 'deploy-echo-7d9f-abcde.pcap']);
  });

  it('asks crictl inside the node for the pid of a pod container', () => {
    expect(crictlPidArgs('lab1-worker', 'containerd://0123abcd')).toEqual(['exec', 'lab1-worker', 'crictl', 'inspect', '--output', 'go-template', '--template', '{{.info.pid}}', '0123abcd']);
  });
});
