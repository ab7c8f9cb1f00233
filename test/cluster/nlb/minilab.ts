/**
 * A minimal copy of the lab's topology (docs/lab-topology.md) for the NLB data-plane tests, built
 * from real namespaces with a unique prefix: fabric bridge, router, client, two nodes in zones
 * lab-1a / lab-1b, and pods running a tiny TCP server that reports its peer and the first bytes it
 * received. Everything is removed by `destroy()`, even after a failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, spawn } from '../../../cluster/exec/exec.js';

export interface MiniNode { name: string; netns: string; ip: string; podCIDR: string; gw: string; zone: string; index: number }
export interface MiniPod { name: string; netns: string; ip: string; node: MiniNode; pid: number | null }

/** Replies to each connection with one line: the TCP peer and the hex of the first 64 bytes it got. */
const SERVER = `
const net = require('node:net');
const port = Number(process.argv[2]);
const name = process.argv[3];
net.createServer((s) => {
  let got = Buffer.alloc(0); let done = false;
  const answer = () => { if (done) return; done = true;
    s.write('peer=' + s.remoteAddress + ':' + s.remotePort + ' first=' + got.subarray(0, 64).toString('hex') + ' pod=' + name + '\\n'); };
  s.on('data', (c) => { got = Buffer.concat([got, c]);
    // A PPv2 header (whose signature holds newlines) comes first; the client's line follows it.
    const sig = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
    const skip = got.length >= 16 && got.subarray(0, 12).equals(sig) ? 16 + got.readUInt16BE(14) : 0;
    if (got.subarray(skip).includes(0x0a) && !done) answer();
    else if (done) s.write('echo ' + c.toString());
  });
  s.on('error', () => {});
}).listen(port, '0.0.0.0');
`;

async function ip(netns: string | null, lines: string[]): Promise<void> {
  await run('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

export class MiniLab {
  readonly prefix = `t${randomBytes(2).toString('hex')}`;
  readonly fabric = `${this.prefix}-fabric`;
  readonly router = `${this.prefix}-router`;
  readonly client = `${this.prefix}-client`;
  readonly nodes: MiniNode[] = [1, 2].map((i) => ({
    name: i === 1 ? 'worker' : `worker${i}`,
    netns: `${this.prefix}-${i === 1 ? 'worker' : `worker${i}`}`,
    ip: `172.18.0.${i + 2}`,
    podCIDR: `10.244.${i}.0/24`,
    gw: `10.244.${i}.1`,
    zone: i === 1 ? 'lab-1a' : 'lab-1b',
    index: i,
  }));
  readonly pods: MiniPod[] = [];
  readonly dir = mkdtempSync(path.join(tmpdir(), 'netlab-nlb-'));
  private readonly namespaces: string[] = [];
  private readonly pids: number[] = [];

  async create(): Promise<void> {
    writeFileSync(path.join(this.dir, 'server.cjs'), SERVER);
    const all = [this.fabric, this.router, this.client, ...this.nodes.map((n) => n.netns)];
    this.namespaces.push(...all);
    await ip(null, all.map((n) => `netns add ${n}`));
    await ip(this.fabric, [
      'link add br0 type bridge', 'link set br0 up', 'link set lo up',
      `link add router type veth peer name eth0 netns ${this.router}`, 'link set router master br0', 'link set router up',
      ...this.nodes.flatMap((n) => [`link add node${n.index} type veth peer name eth0 netns ${n.netns}`, `link set node${n.index} master br0`, `link set node${n.index} up`]),
    ]);
    await ip(this.router, [`link add eth1 type veth peer name eth0 netns ${this.client}`, 'link set lo up', 'addr add 172.18.0.1/16 dev eth0', 'addr add 198.51.100.1/24 dev eth1', 'link set eth0 up', 'link set eth1 up']);
    await ip(this.client, ['link set lo up', 'addr add 198.51.100.10/24 dev eth0', 'link set eth0 up', 'route add default via 198.51.100.1']);
    for (const n of this.nodes) {
      await ip(n.netns, ['link set lo up', `addr add ${n.ip}/16 dev eth0`, 'link set eth0 up', 'route add default via 172.18.0.1',
        ...this.nodes.filter((o) => o !== n).map((o) => `route add ${o.podCIDR} via ${o.ip} dev eth0`)]);
      await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { netns: n.netns });
    }
    await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { netns: this.router });
  }

  async addPod(name: string, node: MiniNode, hostOctet: number, port = 8080): Promise<MiniPod> {
    const netns = `${this.prefix}-pod-${name}`;
    this.namespaces.push(netns);
    const podIp = `${node.podCIDR.split('.').slice(0, 3).join('.')}.${hostOctet}`;
    const veth = `v${this.prefix}${name}`.slice(0, 15);
    await ip(null, [`netns add ${netns}`]);
    await ip(node.netns, [`link add ${veth} type veth peer name eth0 netns ${netns}`, `addr add ${node.gw}/32 dev ${veth}`, `link set ${veth} up`, `route add ${podIp}/32 dev ${veth} scope host`]);
    await ip(netns, ['link set lo up', `addr add ${podIp}/24 dev eth0`, 'link set eth0 up', `route add ${node.gw}/32 dev eth0 scope link`, `route replace ${node.podCIDR} via ${node.gw} dev eth0 src ${podIp}`, `route add default via ${node.gw} dev eth0`]);
    const child = spawn(process.execPath, [path.join(this.dir, 'server.cjs'), String(port), name], { netns, detached: true, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', cleanup: false });
    child.catch(() => undefined);
    child.unref();
    if (child.pid) this.pids.push(child.pid);
    const pod: MiniPod = { name, netns, ip: podIp, node, pid: child.pid ?? null };
    this.pods.push(pod);
    await this.waitListening(netns, port);
    return pod;
  }

  /** Start a long-running process (an NLB agent) and remember it for cleanup. */
  track(pid: number | undefined, netns?: string): void {
    if (pid) this.pids.push(pid);
    if (netns) this.namespaces.push(netns);
  }

  private async waitListening(netns: string, port: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await run('ss', ['-Hltn', `sport = :${port}`], { netns, allowFailure: true });
      if (r.stdout.trim()) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`nothing listens on ${port} in ${netns}`);
  }

  async destroy(): Promise<void> {
    for (const pid of this.pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    const present = new Set((await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]));
    for (const ns of [...this.namespaces].reverse()) {
      if (!present.has(ns)) continue;
      // Anything still running inside (e.g. a process a test started) goes with its namespace.
      const pids = (await run('ip', ['netns', 'pids', ns], { allowFailure: true })).stdout.split('\n').filter(Boolean);
      for (const p of pids) { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }
      await run('ip', ['netns', 'del', ns], { allowFailure: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Open a TCP connection from a namespace with a helper process; resolves with what the server answered. */
/**
 * Keep one connection open from a namespace for `durationMs`, sending a line every 200 ms; resolves
 * with how many answers came back and how the connection ended.
 */
export async function longConnection(netns: string, host: string, port: number, durationMs: number): Promise<{ first: string; answers: number; end: string }> {
  const script = `const s=require('node:net').connect(${port},'${host}',()=>s.write('hello\\n'));let first='',answers=0,end='open';
s.on('data',d=>{const t=d.toString();if(!first){first=t.split('\\n')[0];}else answers+=(t.match(/echo ping/g)||[]).length;});
let n=0;const iv=setInterval(()=>{if(!s.destroyed)s.write('ping '+(n++)+'\\n')},200);
s.on('error',e=>{end='error '+e.code});s.on('close',()=>{if(end==='open')end='closed'});
setTimeout(()=>{clearInterval(iv);process.stdout.write(JSON.stringify({first,answers,end}));process.exit(0)},${durationMs});`;
  const r = await run(process.execPath, ['-e', script], { netns, timeoutMs: durationMs + 10_000 });
  return JSON.parse(r.stdout) as { first: string; answers: number; end: string };
}

export async function clientRequest(netns: string, host: string, port: number, timeoutMs = 3000): Promise<string> {
  const script = `const s=require('node:net').connect(${port},'${host}',()=>s.write('hello\\n'));let out='';s.on('data',d=>{out+=d;if(out.includes('\\n')){process.stdout.write(out);process.exit(0)}});s.on('error',e=>{process.stdout.write('error '+e.code);process.exit(0)});setTimeout(()=>{process.stdout.write('timeout');process.exit(0)},${timeoutMs});`;
  const r = await run(process.execPath, ['-e', script], { netns, timeoutMs: timeoutMs + 5000 });
  return r.stdout.trim();
}
