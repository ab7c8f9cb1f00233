#!/usr/bin/env node
/**
 * One per node, inside the node's namespace: the parts of the kubelet and kube-proxy that must run
 * on the node. (1) Readiness probes of the node's pods (HTTP GET, or a TCP connect when the pod has
 * no probe), results written to probes.json for the controller. (2) kube-proxy's
 * healthCheckNodePort servers for eTP=Local Services: 200 with localEndpoints > 0, else 503, with
 * kube-proxy's JSON body. Its inputs come from agent.json, which the controller rewrites.
 *
 * Usage: node-agent.js --dir /run/netlab/L/nodes/NODE --node NODE --lab-dir DIR
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMain } from './processes.js';

export interface AgentProbe {
  /** namespace/name of the pod */
  key: string;
  ip: string;
  port: number;
  /** HTTP path, or null for a TCP connect check. */
  path: string | null;
}

export interface AgentHealthCheck {
  port: number;
  namespace: string;
  name: string;
  localEndpoints: number;
}

export interface AgentConfig {
  probes: AgentProbe[];
  healthChecks: AgentHealthCheck[];
}

/** kube-proxy's healthCheckNodePort answer (pkg/proxy/healthcheck): status and JSON body. */
export function healthCheckResponse(hc: AgentHealthCheck): { status: number; body: string } {
  const body = [
    '{',
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(hc.namespace)},`,
    `\t\t"name": ${JSON.stringify(hc.name)}`,
    '\t},',
    `\t"localEndpoints": ${hc.localEndpoints},`,
    '\t"serviceProxyHealthy": true',
    '}',
  ].join('\n');
  return { status: hc.localEndpoints > 0 ? 200 : 503, body };
}

function probeOnce(p: AgentProbe, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (p.path === null) {
      const s = net.connect({ host: p.ip, port: p.port, timeout: timeoutMs });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(false));
      return;
    }
    const req = http.get({ host: p.ip, port: p.port, path: p.path, timeout: timeoutMs, headers: { 'user-agent': 'kube-probe/1.31' }, agent: false }, (res) => {
      res.resume();
      // The kubelet counts 200-399 as success.
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
  });
}

function main(): void {
  const { values } = parseArgs({
    options: { dir: { type: 'string' }, node: { type: 'string' }, 'lab-dir': { type: 'string' }, 'period-ms': { type: 'string', default: '300' } },
  });
  const dir = values.dir!;
  const configFile = path.join(dir, 'agent.json');
  const probesFile = path.join(dir, 'probes.json');
  const period = Number(values['period-ms']);
  let config: AgentConfig = { probes: [], healthChecks: [] };
  let configMtime = 0;
  const servers = new Map<number, http.Server>();
  const byPort = new Map<number, AgentHealthCheck>();

  const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${values.node}: ${msg}\n`);

  const syncHealthServers = () => {
    byPort.clear();
    for (const hc of config.healthChecks) byPort.set(hc.port, hc);
    for (const [port, server] of servers) {
      if (!byPort.has(port)) {
        server.close();
        servers.delete(port);
        log(`healthCheckNodePort ${port} closed`);
      }
    }
    for (const port of byPort.keys()) {
      if (servers.has(port)) continue;
      const server = http.createServer((_req, res) => {
        const hc = byPort.get(port);
        if (!hc) {
          res.writeHead(404).end();
          return;
        }
        const { status, body } = healthCheckResponse(hc);
        res.writeHead(status, {
          'Content-Type': 'application/json',
          'X-Content-Type-Options': 'nosniff',
          'X-Load-Balancing-Endpoint-Weight': String(hc.localEndpoints),
        });
        res.end(body);
      });
      server.on('error', (err) => log(`healthCheckNodePort ${port}: ${err.message}`));
      server.listen(port, '0.0.0.0');
      servers.set(port, server);
      log(`healthCheckNodePort ${port} serving ${byPort.get(port)!.namespace}/${byPort.get(port)!.name}`);
    }
  };

  const readConfig = () => {
    try {
      const mtime = statSync(configFile).mtimeMs;
      if (mtime === configMtime) return;
      config = JSON.parse(readFileSync(configFile, 'utf8')) as AgentConfig;
      configMtime = mtime;
      syncHealthServers();
    } catch {
      // Not written yet, or being replaced: keep the previous config.
    }
  };

  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      readConfig();
      const results = await Promise.all(config.probes.map(async (p) => [p.key, await probeOnce(p, 1000)] as const));
      const out = Object.fromEntries(results);
      const tmp = `${probesFile}.tmp`;
      writeFileSync(tmp, JSON.stringify({ at: new Date().toISOString(), results: out }));
      renameSync(tmp, probesFile);
    } finally {
      running = false;
    }
  };
  setInterval(() => void tick(), period);
  void tick();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
  log('started');
}

if (isMain(import.meta.url)) main();
