/**
 * The external client's traffic, run inside the client's namespace by `netlab capture`: N HTTP
 * requests, each on a new TCP connection (like the write-up's `for i in {1..100}; do curl ...`),
 * or long-lived connections that send a request every interval (to watch draining).
 * Prints one JSON line per request so the parent can count Hostname / client_address.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';

export interface RequestResult {
  i: number;
  conn: number;
  localPort: number | null;
  remote: string | null;
  status: number | null;
  hostname: string | null;
  clientAddress: string | null;
  xff: string | null;
  ms: number;
  error: string | null;
}

/**
 * Pull the echo server's `Hostname:`, client address and X-Forwarded-For lines out of a body.
 * A PROXY-protocol-aware app reports the client from the header (as Apache's mod_remoteip makes
 * %a the PPv2 source), so `proxy_protocol_client` wins over the TCP peer in `client_address`.
 */
export function parseEchoBody(body: string): Pick<RequestResult, 'hostname' | 'clientAddress' | 'xff'> {
  const line = (re: RegExp) => body.match(re)?.[1]?.trim() ?? null;
  const ppClient = line(/^\s*proxy_protocol_client[:=]\s*(\S+)/im)?.replace(/:\d+$/, '') ?? null;
  return {
    hostname: line(/^Hostname:\s*(\S+)/im),
    clientAddress: ppClient ?? line(/^\s*client_address[:=]\s*(\S+)/im),
    xff: line(/^\s*x-forwarded-for[:=]\s*(.+)$/im),
  };
}

/**
 * A load balancer's name resolves to one address per zone. Like a client behind a round-robin
 * resolver, each new connection takes the next address (curl in the write-up's loop re-resolves
 * every time); the Host header keeps the name.
 */
export async function addressesOf(url: URL): Promise<string[]> {
  if (net.isIP(url.hostname)) return [url.hostname];
  const all = await lookup(url.hostname, { all: true, family: 4 });
  return all.map((a) => a.address);
}

function once(url: URL, address: string, agent: http.Agent | false, i: number, conn: number, timeoutMs: number): Promise<RequestResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let localPort: number | null = null;
    let remote: string | null = null;
    const headers: Record<string, string> = { host: url.host, ...(agent ? {} : { connection: 'close' }) };
    const req = http.get({ host: address, port: url.port || 80, path: url.pathname + url.search, agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ i, conn, localPort, remote, status: res.statusCode ?? null, ...parseEchoBody(Buffer.concat(chunks).toString('utf8')), ms: performance.now() - started, error: null }),
      );
    });
    req.on('socket', (s) =>
      s.on('connect', () => {
        localPort = s.localPort ?? null;
        remote = s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : null;
      }),
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ i, conn, localPort, remote, status: null, hostname: null, clientAddress: null, xff: null, ms: performance.now() - started, error: err.code ?? err.message }),
    );
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      requests: { type: 'string', default: '100' },
      'interval-ms': { type: 'string', default: '0' },
      'keep-alive': { type: 'boolean', default: false },
      'timeout-ms': { type: 'string', default: '3000' },
    },
  });
  if (!values.url) throw new Error('--url is required');
  const url = new URL(values.url);
  const n = Number(values.requests);
  const interval = Number(values['interval-ms']);
  // keep-alive: one long-lived connection for every request (drain); otherwise a new one each time.
  const agent = values['keep-alive'] ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
  const addresses = await addressesOf(url);
  for (let i = 1; i <= n; i++) {
    // A kept-alive connection stays on its first address, as it would with a real client.
    const address = addresses[agent ? 0 : (i - 1) % addresses.length]!;
    const r = await once(url, address, agent, i, values['keep-alive'] ? 1 : i, Number(values['timeout-ms']));
    process.stdout.write(`${JSON.stringify(r)}\n`);
    if (interval > 0) await new Promise((res) => setTimeout(res, interval));
  }
  if (agent) agent.destroy();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: Error) => {
    process.stderr.write(`http-client: ${err.message}\n`);
    process.exitCode = 2;
  });
}
