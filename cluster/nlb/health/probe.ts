/**
 * Real health-check probes, run inside the NLB node's namespace from the load balancer's private
 * IP: a TCP connect, or an HTTP(S) GET whose status must match AWS's success-code matcher. With
 * proxy protocol v2 on, the connection starts with a PPv2 LOCAL header, as NLB's checks do.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { parseSuccessCodes } from '../plan/annotations.js';
import { ppv2LocalHeader } from '../dataplane/ppv2.js';
import type { ProbeResult } from './state.js';

export interface ProbeSpec {
  protocol: 'TCP' | 'HTTP' | 'HTTPS';
  ip: string;
  port: number;
  path: string | null;
  successCodes: string | null;
  timeoutMs: number;
  /** Source address: the load balancer's private IP in this zone. */
  localAddress: string;
  proxyProtocolV2: boolean;
}

function tcpProbe(spec: ProbeSpec): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: spec.ip, port: spec.port, localAddress: spec.localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, failure: 'timeout' });
    }, spec.timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      if (spec.proxyProtocolV2) socket.end(ppv2LocalHeader());
      else socket.end();
      resolve({ ok: true });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, failure: 'connect', detail: err.code ?? err.message });
    });
  });
}

function codeMatches(code: number, matcher: string | null): boolean {
  const ranges = parseSuccessCodes(matcher ?? '200-399') ?? [[200, 399]];
  return ranges.some(([lo, hi]) => code >= lo && code <= hi);
}

function httpProbe(spec: ProbeSpec): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const connect = () => {
      const raw = net.connect({ host: spec.ip, port: spec.port, localAddress: spec.localAddress });
      // Written before anything else on the socket, so it precedes the TLS hello or the request line.
      if (spec.proxyProtocolV2) raw.write(ppv2LocalHeader());
      return spec.protocol === 'HTTPS' ? tls.connect({ socket: raw, rejectUnauthorized: false, servername: undefined }) : raw;
    };
    const request = (spec.protocol === 'HTTPS' ? https : http).request({
      host: spec.ip,
      port: spec.port,
      path: spec.path ?? '/',
      method: 'GET',
      agent: false,
      headers: { 'User-Agent': 'ELB-HealthChecker/2.0', Connection: 'close' },
      createConnection: connect,
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish({ ok: false, failure: 'timeout' });
    }, spec.timeoutMs);
    request.once('response', (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      finish(codeMatches(code, spec.successCodes) ? { ok: true, code } : { ok: false, failure: 'code', code });
    });
    request.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, failure: 'connect', detail: err.code ?? err.message }));
    request.end();
  });
}

export function probe(spec: ProbeSpec): Promise<ProbeResult> {
  return spec.protocol === 'TCP' ? tcpProbe(spec) : httpProbe(spec);
}
