/**
 * MetalLB's controller, pure: LoadBalancer Services it owns get an address from the pool (the
 * requested one when `spec.loadBalancerIP` or `metallb.universe.tf/loadBalancerIPs` names one).
 */
import type { Service } from '../lab/state.js';
import { isMetallbService, svcKey } from '../model/services.js';

export const DEFAULT_POOL = { start: '172.18.255.200', end: '172.18.255.250' };
const REQUEST_ANNOTATIONS = ['metallb.universe.tf/loadBalancerIPs', 'metallb.io/loadBalancerIPs'];

const toNum = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

export function inPool(ip: string, pool: { start: string; end: string }): boolean {
  const n = toNum(ip);
  return n >= toNum(pool.start) && n <= toNum(pool.end);
}

/** VIP per owned Service key; Services that keep their address keep it, new ones get the lowest free one. */
export function allocateVips(services: Service[], pool: { start: string; end: string }): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const used = new Set<string>();
  const owned = services.filter(isMetallbService);
  const requested = (s: Service) => s.spec?.loadBalancerIP || REQUEST_ANNOTATIONS.map((a) => s.metadata?.annotations?.[a]).find(Boolean);
  for (const s of owned) {
    const current = s.status?.loadBalancer?.ingress?.[0]?.ip;
    const want = requested(s) ?? current;
    if (want && inPool(want, pool) && !used.has(want)) {
      out[svcKey(s)] = want;
      used.add(want);
    }
  }
  for (const s of owned) {
    if (svcKey(s) in out) continue;
    out[svcKey(s)] = null;
    if (requested(s)) continue;
    for (let n = toNum(pool.start); n <= toNum(pool.end); n++) {
      if (!used.has(toIp(n))) {
        out[svcKey(s)] = toIp(n);
        used.add(toIp(n));
        break;
      }
    }
  }
  return out;
}
