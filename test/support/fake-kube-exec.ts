/**
 * Pod exec for the fake API server (test/support/fake-kube-api.ts), over a real WebSocket with the
 * channel protocol client-node speaks (v5/v4.channel.k8s.io: one leading byte per message —
 * 1 stdout, 2 stderr, 3 the final V1Status as JSON). The "exec" really runs the requested argv on
 * this machine, inside the network namespace the test maps the pod to (`ip netns exec NS …`), so a
 * `tcpdump -i any -w -` in it captures real packets between the test's own namespaces.
 *
 * As on a real kubelet, closing the socket does not end the command; deleting the pod does
 * (`killPod`, which the test wires to the fake API's pod deletions).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeKubeApi } from './fake-kube-api.js';

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

export interface ExecRecord {
  namespace: string;
  pod: string;
  container: string | null;
  command: string[];
  protocol: string;
  /** Where it ran (the network namespace), or null when the pod was not mapped (404). */
  netns: string | null;
  exitCode: number | null;
  /** Bytes sent on the stdout channel. */
  stdoutBytes: number;
}

export interface FakeExec {
  readonly records: ExecRecord[];
  /** How many exec'd commands are still running. */
  running(): number;
  /** What a pod's deletion does to its processes: they are killed. */
  killPod(namespace: string, pod: string): void;
  close(): Promise<void>;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

/** The V1Status a kubelet sends on channel 3 when the command ends. */
export function execStatus(command: string[], code: number | null, signal: NodeJS.Signals | null): object {
  if (code === 0) return { metadata: {}, status: 'Success' };
  const exit = code ?? 137;
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exit}${signal ? ` (${signal})` : ''}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exit) }] },
  };
}

/**
 * Serve `GET …/pods/P/exec?command=…` upgrades on the fake API. `netnsFor` maps a pod to the
 * network namespace its exec runs in (null: no such pod, answered 404 like the API server).
 */
export function attachFakeExec(api: FakeKubeApi, netnsFor: (namespace: string, pod: string) => string | null): FakeExec {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const records: ExecRecord[] = [];
  const children = new Map<ChildProcess, string>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = EXEC_PATH.exec(url.pathname);
    if (!m) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (req.headers.authorization !== `Bearer ${api.token}`) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [namespace, pod] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    const netns = netnsFor(namespace, pod);
    const command = url.searchParams.getAll('command');
    const record: ExecRecord = { namespace, pod, container: url.searchParams.get('container'), command, protocol: '', netns, exitCode: null, stdoutBytes: 0 };
    records.push(record);
    if (!netns || command.length === 0) {
      socket.end(`HTTP/1.1 ${netns ? 400 : 404} ${netns ? 'Bad Request' : 'Not Found'}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      record.protocol = ws.protocol;
      // Its own process group, so a pod's deletion can end everything the command started.
      const child = spawn('ip', ['netns', 'exec', netns, ...command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      children.set(child, `${namespace}/${pod}`);
      child.stdout.on('data', (d: Buffer) => {
        record.stdoutBytes += d.length;
        ws.send(frame(1, d));
      });
      child.stderr.on('data', (d: Buffer) => ws.send(frame(2, d)));
      let spawnError: Error | null = null;
      child.on('error', (err) => (spawnError = err));
      child.on('close', (code, signal) => {
        children.delete(child);
        record.exitCode = code;
        if (ws.readyState === ws.OPEN) {
          if (spawnError) ws.send(frame(2, String(spawnError.message)));
          ws.send(frame(3, JSON.stringify(execStatus(command, code, signal))));
          ws.close(1000);
        }
      });
    });
  };
  const detach = api.upgrade(onUpgrade);

  return {
    records,
    running: () => children.size,
    killPod(namespace, pod) {
      for (const [child, key] of children) if (key === `${namespace}/${pod}`) killGroup(child);
    },
    async close() {
      detach();
      for (const child of children.keys()) killGroup(child);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
