/** The API-mode emulator's command line → typed options (pure; bad flags are one UsageError line). */
import { parseArgs } from 'node:util';
import { UsageError } from '../../../analyzer/errors.js';
import { REGION } from '../../netns/plan.js';
import type { ApiControllerOptions } from './controller.js';
import { defaultPool, type AddressPool, type ApiZone } from './plan.js';
import { STATUS_CONFIGMAP } from './report.js';

export const USAGE =
  'usage: main.js --kubeconfig FILE [--context NAME] --zones a=IP,b=IP --interface IFACE [--pool A.B.C.first-A.B.C.last] ' +
  '[--cluster-name NAME] [--region lab-1] [--time-scale N] [--status-namespace kube-system] [--status-name netlab-nlb-status]';

/** The command line: where the API is, the emulator's own interface, and the controller's settings. */
export interface ApiOptions extends Omit<ApiControllerOptions, 'kube' | 'system' | 'log'> {
  kubeconfig: string;
  context: string | undefined;
  iface: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const isIpv4 = (s: string) => IPV4.test(s) && s.split('.').every((o) => Number(o) <= 255);

/** `a=172.18.1.2,b=172.18.1.3`: a short zone name is appended to the region (`a` → `lab-1a`), a full one kept. */
export function parseZones(text: string, region: string): ApiZone[] {
  const zones: ApiZone[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9-]+)=(.+)$/.exec(part);
    if (!m || !isIpv4(m[2]!)) throw new UsageError(`--zones: '${part}' is not ZONE=IPv4`, 'e.g. --zones a=172.18.1.2,b=172.18.1.3');
    const zone = m[1]!.startsWith(region) ? m[1]! : `${region}${m[1]}`;
    if (zones.some((z) => z.zone === zone || z.ip === m[2])) throw new UsageError(`--zones: zone ${zone} or address ${m[2]} given twice`, 'one address per zone');
    zones.push({ zone, ip: m[2]! });
  }
  if (zones.length === 0) throw new UsageError('--zones is empty', 'e.g. --zones a=172.18.1.2,b=172.18.1.3');
  return zones;
}

/** `172.18.1.10-172.18.1.250` (one /24). */
export function parsePool(text: string): AddressPool {
  const [a, b] = text.split('-');
  if (!a || !b || !isIpv4(a) || !isIpv4(b)) throw new UsageError(`--pool '${text}' is not FIRST-LAST`, 'e.g. --pool 172.18.1.10-172.18.1.250');
  const prefixA = a.split('.').slice(0, 3).join('.');
  const prefixB = b.split('.').slice(0, 3).join('.');
  const first = Number(a.split('.')[3]);
  const last = Number(b.split('.')[3]);
  if (prefixA !== prefixB || first > last || first < 1 || last > 254) throw new UsageError(`--pool '${text}' must be a range inside one /24`, 'e.g. --pool 172.18.1.10-172.18.1.250');
  return { prefix: `${prefixA}.`, first, last };
}

export function parseApiOptions(argv: readonly string[]): ApiOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        zones: { type: 'string' },
        interface: { type: 'string' },
        pool: { type: 'string' },
        'cluster-name': { type: 'string' },
        region: { type: 'string' },
        'time-scale': { type: 'string' },
        'status-namespace': { type: 'string' },
        'status-name': { type: 'string' },
      },
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!, USAGE);
  }
  for (const required of ['kubeconfig', 'zones', 'interface']) {
    if (!values[required]) throw new UsageError(`--${required} is required`, USAGE);
  }
  const region = values.region ?? REGION;
  const zones = parseZones(values.zones!, region);
  const timeScale = Number(values['time-scale'] ?? '1');
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new UsageError(`--time-scale '${values['time-scale']}' is not a positive number`, 'e.g. --time-scale 20');
  const pool = values.pool ? parsePool(values.pool) : defaultPool(zones);
  const inPool = zones.find((z) => z.ip.startsWith(pool.prefix) && Number(z.ip.split('.')[3]) >= pool.first && Number(z.ip.split('.')[3]) <= pool.last);
  if (inPool) throw new UsageError(`zone address ${inPool.ip} is inside the load balancer pool`, 'give the zones addresses outside --pool');
  return {
    kubeconfig: values.kubeconfig!,
    context: values.context,
    zones,
    iface: values.interface!,
    pool,
    clusterName: values['cluster-name'] ?? 'netlab',
    region,
    timeScale,
    statusNamespace: values['status-namespace'] ?? STATUS_CONFIGMAP.namespace,
    statusName: values['status-name'] ?? STATUS_CONFIGMAP.name,
  };
}
