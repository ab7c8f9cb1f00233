/**
 * A paced UDP sender for the benchmark: `rate` datagrams per second (0 = as fast as it can) for
 * `durationMs`, from inside a namespace. Prints `{"sent": N, "ms": T}`.
 */
import { run } from '../../cluster/exec/exec.js';

const SENDER = `
import dgram from 'node:dgram';
const [host, port, rate, durationMs, size] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const sock = dgram.createSocket('udp4');
sock.on('error', () => {});
const payload = Buffer.alloc(size, 0x61);
const start = performance.now();
let sent = 0;
const burst = 64;
await new Promise((resolve) => {
  const tick = () => {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) return resolve();
    const due = rate > 0 ? Math.floor((elapsed / 1000) * rate) : sent + burst;
    const n = Math.min(due - sent, burst);
    if (n <= 0) return setTimeout(tick, 1);
    let pending = n;
    for (let i = 0; i < n; i++) sock.send(payload, port, host, () => { if (--pending === 0) setImmediate(tick); });
    sent += n;
  };
  tick();
});
console.log(JSON.stringify({ sent, ms: performance.now() - start }));
sock.close();
`;

export interface FloodResult {
  sent: number;
  ms: number;
}

export async function udpFlood(netns: string, host: string, port: number, rate: number, durationMs: number, size = 64): Promise<FloodResult> {
  const r = await run(process.execPath, ['--input-type=module', '-e', SENDER, host, String(port), String(rate), String(durationMs), String(size)], {
    netns,
    timeoutMs: durationMs + 30_000,
  });
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as FloodResult;
}
