/**
 * An Istio-like ingress gateway, as in the write-up's Istio section: it accepts connections from
 * the NLB carrying a PROXY protocol header, takes the client address from it, and forwards each
 * HTTP request to the app over a new connection, adding the client to X-Forwarded-For (as
 * Envoy does with `use_remote_address`). The app's TCP peer is therefore the gateway, and only
 * XFF tells it who the client was. Health-check connections (PPv2 LOCAL, no request) are closed.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseProxyHeader, type ProxyHeader } from './proxy-protocol.js';

const MAX_HEAD = 64 * 1024;

/**
 * Extend X-Forwarded-For (and add X-Envoy-External-Address), appending at the end of the head as
 * Envoy does: the request line and the client's own headers stay first, byte for byte.
 */
export function addForwardedFor(head: string, client: string): string {
  const lines = head.split('\r\n');
  const i = lines.findIndex((l, k) => k > 0 && /^x-forwarded-for:/i.test(l));
  if (i > 0) lines[i] = `${lines[i]}, ${client}`;
  else lines.push(`X-Forwarded-For: ${client}`);
  lines.push(`X-Envoy-External-Address: ${client}`);
  // One request per upstream connection keeps each request's XFF tied to its own client.
  const c = lines.findIndex((l, k) => k > 0 && /^connection:/i.test(l));
  if (c < 0) lines.push('Connection: close');
  else if (!/^connection:\s*close\s*$/i.test(lines[c]!)) lines[c] = 'Connection: close';
  return lines.join('\r\n');
}

/** `svc:port` → the Service's ClusterIP:port, read from the lab's state file. */
export function resolveUpstream(spec: string, namespace: string, labDir: string | undefined): { host: string; port: number } {
  const [name, portText] = spec.split(':');
  const port = Number(portText ?? 80);
  if (net.isIP(name ?? '')) return { host: name!, port };
  if (!labDir) throw new Error(`cannot resolve ${spec} without --lab-dir`);
  const state = JSON.parse(readFileSync(path.join(labDir, 'state.json'), 'utf8')) as { objects: { services: Array<{ metadata?: { name?: string; namespace?: string }; spec?: { clusterIP?: string } }> } };
  const svc = state.objects.services.find((s) => s.metadata?.name === name && (s.metadata?.namespace ?? 'default') === namespace);
  if (!svc?.spec?.clusterIP) throw new Error(`service ${namespace}/${name} not found in the lab`);
  return { host: svc.spec.clusterIP, port };
}

function serve(port: number, upstream: () => { host: string; port: number }, log: (line: string) => void): net.Server {
  return net.createServer((down) => {
    let buf = Buffer.alloc(0);
    let header: ProxyHeader | null = null;
    let done = false;
    const onData = (chunk: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      if (!header) {
        const p = parseProxyHeader(buf);
        if (p.kind === 'need-more') return;
        if (p.kind === 'header') {
          header = p.header;
          buf = buf.subarray(p.header.length);
        } else if (p.kind === 'malformed') {
          log(`malformed PROXY header from ${down.remoteAddress}: ${p.reason}`);
          down.destroy();
          return;
        }
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) down.destroy();
        return;
      }
      done = true;
      down.off('data', onData);
      const client = header?.command === 'PROXY' && header.src ? header.src : (down.remoteAddress ?? '');
      const head = addForwardedFor(buf.subarray(0, end).toString('latin1'), client);
      const rest = buf.subarray(end + 4);
      let target: { host: string; port: number };
      try {
        target = upstream();
      } catch (err) {
        log(`no upstream: ${(err as Error).message}`);
        down.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const up = net.connect(target.port, target.host, () => {
        up.write(`${head}\r\n\r\n`, 'latin1');
        if (rest.length) up.write(rest);
        down.pipe(up);
        up.pipe(down);
      });
      log(`${client} via ${down.remoteAddress}:${down.remotePort} → ${target.host}:${target.port} ${head.split('\r\n')[0]}`);
      up.on('error', () => down.destroy());
      down.on('error', () => up.destroy());
    };
    down.on('data', onData);
    down.on('error', () => undefined);
  }).listen(port, '0.0.0.0');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', multiple: true },
      upstream: { type: 'string' },
      namespace: { type: 'string', default: 'default' },
      'lab-dir': { type: 'string' },
      hostname: { type: 'string' },
      node: { type: 'string' },
      'pod-ip': { type: 'string' },
    },
  });
  if (!values.upstream) throw new Error('--upstream SVC:PORT is required');
  let resolved: { host: string; port: number } | null = null;
  // Resolve lazily: the upstream Service may be applied after the gateway pod starts.
  const upstream = () => (resolved ??= resolveUpstream(values.upstream!, values.namespace!, values['lab-dir']));
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  for (const p of values.port ?? ['8080']) serve(Number(p), upstream, log);
  log(`gateway ${values.hostname ?? ''} listening on ${(values.port ?? ['8080']).join(',')}, upstream ${values.upstream}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`gateway: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
