/**
 * A TCP relay inside a network namespace: 127.0.0.1:PORT there → a unix socket (files cross
 * namespaces, loopback addresses do not). Lets a process in a lab namespace reach a test's
 * in-process server (the fake Kubernetes API) without touching the host's network.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from '../../cluster/exec/exec.js';

const RELAY = `
const net = require('node:net');
const [port, socketPath] = [Number(process.argv[2]), process.argv[3]];
net.createServer((c) => {
  const u = net.connect(socketPath);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}).listen(port, '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

export interface Relay {
  port: number;
  pid: number;
  stop(): void;
}

export async function startRelay(netns: string, socketPath: string, dir: string, port = 16443): Promise<Relay> {
  const script = path.join(dir, 'relay.cjs');
  writeFileSync(script, RELAY);
  const child = spawn(process.execPath, [script, String(port), socketPath], { netns, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false });
  child.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('listening')) resolve();
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`relay in ${netns} exited (${code}): ${out}`)));
  });
  return { port, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}
