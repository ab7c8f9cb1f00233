/**
 * The NLB's L4 proxy for listeners whose target group has proxy protocol v2 on: accept the client's
 * connection on the listener address, pick a target by flow hash, connect to it from the load
 * balancer's private IP, write a PPv2 header (client IP:port → listener IP:port) before any client
 * byte, then relay both ways. Connections are tracked per target so draining can end them.
 */
import net from 'node:net';
import { ppv2ProxyHeader } from './ppv2.js';

export interface ProxyTarget {
  /** Stable key of the target (target group + address + port). */
  key: string;
  ip: string;
  port: number;
}

export interface ProxyListenerOptions {
  /** Addresses to listen on (the load balancer's public and private IP in this zone). */
  listenIps: string[];
  port: number;
  /** Source address of connections to targets. */
  privateIp: string;
  stickySourceIp: boolean;
  /** The targets new flows may use right now; asked on every new connection. */
  routable: () => ProxyTarget[];
  onError: (message: string) => void;
}

/** FNV-1a over the flow's tuple: the same flow always lands on the same target of the same set. */
export function flowHash(parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function pickTarget<T>(targets: readonly T[], tuple: { src: string; sport: number; dst: string; dport: number }, stickySourceIp: boolean): T | undefined {
  if (targets.length === 0) return undefined;
  const h = stickySourceIp ? flowHash([tuple.src]) : flowHash([tuple.src, tuple.sport, tuple.dst, tuple.dport, 'tcp']);
  return targets[h % targets.length];
}

interface Relay {
  client: net.Socket;
  upstream: net.Socket;
}

export class Ppv2ProxyListener {
  private readonly servers: net.Server[] = [];
  private readonly relays = new Map<string, Set<Relay>>();

  constructor(private readonly opts: ProxyListenerOptions) {}

  async start(): Promise<void> {
    for (const ip of this.opts.listenIps) {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: ip, port: this.opts.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.opts.onError(`listener ${ip}:${this.opts.port}: ${err.message}`));
      this.servers.push(server);
    }
  }

  /** Open connections per target key. */
  connectionCount(key: string): number {
    return this.relays.get(key)?.size ?? 0;
  }

  /** Reset every connection to this target (connection termination after the deregistration delay). */
  terminate(key: string): number {
    const set = this.relays.get(key);
    if (!set) return 0;
    for (const r of set) {
      r.client.resetAndDestroy();
      r.upstream.resetAndDestroy();
    }
    const n = set.size;
    this.relays.delete(key);
    return n;
  }

  async close(): Promise<void> {
    for (const key of [...this.relays.keys()]) this.terminate(key);
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
  }

  private accept(client: net.Socket): void {
    const src = client.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    const dst = client.localAddress?.replace(/^::ffff:/, '') ?? '';
    const sport = client.remotePort ?? 0;
    const dport = client.localPort ?? 0;
    const target = pickTarget(this.opts.routable(), { src, sport, dst, dport }, this.opts.stickySourceIp);
    if (!target) {
      // No target at all: the client sees its connection fail, as it would behind an empty NLB target group.
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: target.ip, port: target.port, localAddress: this.opts.privateIp });
    const relay: Relay = { client, upstream };
    let set = this.relays.get(target.key);
    if (!set) this.relays.set(target.key, (set = new Set()));
    set.add(relay);
    const forget = () => {
      set.delete(relay);
      if (set.size === 0 && this.relays.get(target.key) === set) this.relays.delete(target.key);
    };
    upstream.once('connect', () => {
      upstream.write(ppv2ProxyHeader(src, sport, dst, dport));
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    // A reset on one side is passed on as a reset, a close as a close.
    upstream.on('error', () => {
      forget();
      client.resetAndDestroy();
    });
    client.on('error', () => {
      forget();
      upstream.resetAndDestroy();
    });
    upstream.once('close', forget);
    client.once('close', forget);
  }
}
