/**
 * Where and how netlab captures on a kind lab, as data (snapshot-tested); cluster/kind/capture.ts
 * runs it. Nothing is installed into kind's node containers: every capture is a short-lived helper
 * container from netlab's own image (which carries tcpdump, ip and nsenter), joined to the
 * network namespace it captures in —
 * - a node, the emulator, the client: `docker run --network container:<that container>`;
 * - a pod: the helper shares its node's pid namespace (`--pid container:<node>`) and enters the
 *   pod's network namespace with `nsenter -t <pid> -n`, the pid being what `crictl inspect`
 *   reports inside the node for the pod's container.
 * tcpdump writes pcap to stdout (`-w -`, `-U`), which netlab streams into a file in the run dir.
 */
import type { CaptureTarget } from '../capture/points.js';
import { tcpdumpArgs } from '../capture/tcpdump.js';

export interface KindCaptureSubject {
  target: CaptureTarget;
  /** The container whose network namespace is captured (node, emulator, client) … */
  container: string;
  /** … or, for a pod, the node container and the pod container's pid inside that node. */
  pod?: { node: string; pid: number };
}

export interface KindCaptureCommand {
  target: CaptureTarget;
  /** The helper container's name, so `docker kill --signal SIGINT` can stop it. */
  helper: string;
  /** argv after `docker` that streams the pcap on stdout. */
  capture: string[];
  /** argv after `docker` that prints `ip -j link show` in the same namespace (SLL2 carries only ifindex). */
  links: string[];
  /** File name in the run dir. */
  file: string;
}

export const HELPER_LABEL = 'netlab.capture';

function joinArgs(s: KindCaptureSubject): string[] {
  const capture = ['--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW'];
  // setns into another process's network namespace needs SYS_ADMIN (and SYS_PTRACE to open its
  // /proc/PID/ns/net); that is all nsenter -n needs, so no --privileged.
  return s.pod ? ['--pid', `container:${s.pod.node}`, '--cap-add', 'SYS_ADMIN', '--cap-add', 'SYS_PTRACE', ...capture] : ['--network', `container:${s.container}`, ...capture];
}

function inNamespace(s: KindCaptureSubject, argv: string[]): string[] {
  return s.pod ? ['nsenter', '-t', String(s.pod.pid), '-n', ...argv] : argv;
}

/** A helper name unique per run: `<lab>-cap-<run id>-<n>` (Docker names allow [a-zA-Z0-9_.-]). */
export function helperName(lab: string, runId: string, index: number): string {
  return `${lab}-cap-${runId}-${index}`;
}

export function kindCapturePlan(lab: string, runId: string, image: string, subjects: readonly KindCaptureSubject[], filter: string): KindCaptureCommand[] {
  return subjects.map((s, i) => {
    const helper = helperName(lab, runId, i);
    const base = ['run', '--rm', '--pull', 'never', '--label', `${HELPER_LABEL}=${lab}`, ...joinArgs(s)];
    const [entry, ...rest] = inNamespace(s, ['tcpdump', ...tcpdumpArgs('-', filter)]);
    const [linkEntry, ...linkRest] = inNamespace(s, ['ip', '-j', 'link', 'show']);
    return {
      target: s.target,
      helper,
      capture: [...base, '--name', helper, '--entrypoint', entry!, image, ...rest],
      links: [...base, '--entrypoint', linkEntry!, image, ...linkRest],
      file: `${s.target.name.replaceAll('/', '_')}.pcap`,
    };
  });
}

/** argv after `docker` that prints the pid of a pod's container as the node's containerd sees it. */
export function crictlPidArgs(node: string, containerId: string): string[] {
  return ['exec', node, 'crictl', 'inspect', '--output', 'go-template', '--template', '{{.info.pid}}', containerId.replace(/^[a-z]+:\/\//, '')];
}
