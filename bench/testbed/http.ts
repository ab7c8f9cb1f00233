/**
 * Real HTTP endpoints for the testbed: a Node server that answers like the lab's echo image
 * (`client_address: <TCP peer>`) and a Node client that makes N sequential requests, each on a
 * new connection. Both run inside a namespace through the exec wrapper.
 */
import { run, spawn } from '../../cluster/exec/exec.js';

const SERVER = `
import http from 'node:http';
const [host, port] = [process.argv[1], Number(process.argv[2])];
http.createServer((req, res) => {
  res.end('client_address: ' + req.socket.remoteAddress + '\\n');
}).listen(port, host, () => console.log('listening'));
`;

const CLIENT = `
import http from 'node:http';
const [host, port, n] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
for (let i = 0; i < n; i++) {
  const body = await new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/req' + i, agent: false }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve(data.trim()));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
  console.log(body);
}
`;

export interface RunningServer {
  stop(): void;
}

/** Start the echo server in `netns` and wait until it listens. */
export async function startEchoServer(netns: string, host: string, port: number): Promise<RunningServer> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', SERVER, host, String(port)], {
    netns,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo server in ${netns} did not start`)), 10_000);
    proc.stdout?.on('data', (d: Buffer) => {
      if (String(d).includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void proc.then((r) => {
      clearTimeout(timer);
      reject(new Error(`echo server in ${netns} exited: ${String(r.stderr ?? '')}`));
    });
  });
  return { stop: () => void proc.kill('SIGKILL') };
}

/** Make `n` requests from `netns`; returns each response body. */
export async function httpRequests(netns: string, host: string, port: number, n: number): Promise<string[]> {
  const r = await run(process.execPath, ['--input-type=module', '-e', CLIENT, host, String(port), String(n)], { netns, timeoutMs: 30_000 });
  return r.stdout.split('\n').filter(Boolean);
}
