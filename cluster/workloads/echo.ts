#!/usr/bin/env node
/**
 * The lab's echo workload, run inside a pod's namespace: answers every HTTP request the way the
 * write-up's echo image (k8s.gcr.io/echoserver) does — `Hostname: <pod>`, `client_address=<TCP
 * peer>`, the request headers (X-Forwarded-For included) — and logs one JSON line per request.
 * With --proxy-protocol it behaves like Apache with `RemoteIPProxyProtocol On` (the write-up's
 * gasida/httpd:pp): every connection must start with a PROXY v2 (or v1) header, whose client
 * address it reports and logs; connections without one are closed.
 *
 * Usage: echo.js --hostname POD --port 8080 [--port N...] [--proxy-protocol] [--node NODE]
 *        [--namespace NS] [--pod-ip IP] [--lab-dir DIR]
 */
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { parseProxyHeader, type ProxyHeader } from './proxy-protocol.js';

const { values } = parseArgs({
  options: {
    hostname: { type: 'string' },
    port: { type: 'string', multiple: true },
    'proxy-protocol': { type: 'boolean', default: false },
    node: { type: 'string' },
    namespace: { type: 'string' },
    'pod-ip': { type: 'string' },
    // Only a marker, so `netlab down` can find this process after a crash.
    'lab-dir': { type: 'string' },
  },
});

const hostname = values.hostname ?? 'echo';
const ports = (values.port ?? ['8080']).map(Number);
const proxyProtocol = values['proxy-protocol'];

const proxyHeaders = new WeakMap<net.Socket, ProxyHeader>();

function log(entry: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

function podInformation(): string {
  if (!values.node && !values.namespace && !values['pod-ip']) return '\t-no pod information available-';
  return [
    `\tnode name:\t${values.node ?? ''}`,
    `\tpod name:\t${hostname}`,
    `\tpod namespace:\t${values.namespace ?? ''}`,
    `\tpod IP:\t${values['pod-ip'] ?? ''}`,
  ].join('\n');
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    const pp = proxyHeaders.get(req.socket) ?? null;
    const body = Buffer.concat(chunks).toString('utf8');
    const headerLines = Object.entries(req.headers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `\t${k}=${Array.isArray(v) ? v.join(', ') : v}`);
    const info = [
      `\tclient_address=${peer}`,
      ...(pp ? [`\tproxy_protocol=v${pp.version} ${pp.command}`, ...(pp.src ? [`\tproxy_protocol_client=${pp.src}:${pp.sport}`] : [])] : []),
      `\tmethod=${req.method}`,
      `\treal path=${req.url?.split('?')[0] ?? '/'}`,
      `\tquery=${req.url?.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : ''}`,
      `\trequest_version=${req.httpVersion}`,
      `\trequest_scheme=http`,
      `\trequest_uri=http://${req.headers.host ?? ''}${req.url ?? '/'}`,
    ];
    const text = [
      '',
      '',
      `Hostname: ${hostname}`,
      '',
      'Pod Information:',
      podInformation(),
      '',
      'Server values:',
      '\tserver_version=netlab-echo',
      '',
      'Request Information:',
      ...info,
      '',
      'Request Headers:',
      ...headerLines,
      '',
      'Request Body:',
      body ? `\t${body}` : '\t-no body in request-',
      '',
      '',
    ].join('\n');
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    log({
      hostname,
      peer,
      peerPort: req.socket.remotePort ?? null,
      localPort: req.socket.localPort ?? null,
      method: req.method,
      path: req.url,
      xff: req.headers['x-forwarded-for'] ?? null,
      proxyProtocol: pp ? { version: pp.version, command: pp.command, src: pp.src, sport: pp.sport, dst: pp.dst, dport: pp.dport } : null,
    });
  });
}

const httpServer = http.createServer({ keepAliveTimeout: 5000 }, handle);

/** PROXY mode: read the header from the raw socket, then hand the rest of the stream to the HTTP server. */
function acceptWithProxyHeader(socket: net.Socket): void {
  let buffered = Buffer.alloc(0);
  const peer = socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const parsed = parseProxyHeader(buffered);
    if (parsed.kind === 'need-more') return;
    socket.off('data', onData);
    socket.pause();
    if (parsed.kind !== 'header') {
      log({ hostname, peer, error: parsed.kind === 'none' ? 'connection without a PROXY header refused' : parsed.reason });
      socket.destroy();
      return;
    }
    const { header } = parsed;
    proxyHeaders.set(socket, header);
    const rest = buffered.subarray(header.length);
    if (rest.length === 0) {
      // Health checks send only the header (LOCAL) and close: log them, as Apache's access log would not.
      socket.once('end', () => {
        if (header.command === 'LOCAL') log({ hostname, peer, proxyProtocol: { version: header.version, command: 'LOCAL' }, note: 'connection closed after the PROXY header' });
      });
    }
    if (rest.length) socket.unshift(rest);
    httpServer.emit('connection', socket);
    socket.resume();
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

for (const port of ports) {
  net.createServer(proxyProtocol ? acceptWithProxyHeader : (s) => httpServer.emit('connection', s)).listen(port, '0.0.0.0');
}
log({ hostname, listening: ports, proxyProtocol });

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
