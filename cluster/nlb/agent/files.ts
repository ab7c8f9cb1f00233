/**
 * What the controller and a zone's agent exchange, as JSON files under the lab's folder:
 * the controller writes `nlb/<zone>.config.json` (the load balancers this NLB node serves), the
 * agent writes `nlb/<zone>.status.json` (target health as it sees it). Both are replaced
 * atomically (temp file + rename), so a reader never sees half a file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TargetHealthFields } from '../health/state.js';
import type { LoadBalancerPlan, TargetPlan } from '../plan/types.js';

export interface ZoneLoadBalancer {
  plan: LoadBalancerPlan;
  privateIp: string;
  publicIp: string;
}

export interface ZoneConfig {
  zone: string;
  netns: string;
  loadBalancers: ZoneLoadBalancer[];
}

export interface TargetStatus extends TargetPlan, TargetHealthFields {
  loadBalancer: string;
  targetGroup: string;
  /** Open proxied connections (PPv2 listeners); null where the kernel relays them. */
  connections: number | null;
  drainUntil: string | null;
}

export interface ListenerStatus {
  loadBalancer: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  mode: 'nat' | 'proxy';
  /** ip:port of the targets new flows go to now. */
  routable: string[];
}

export interface ZoneStatus {
  zone: string;
  pid: number;
  updatedAt: string;
  targets: TargetStatus[];
  listeners: ListenerStatus[];
  /** Problems the agent met (a listener it could not open, a rule set the kernel refused). */
  errors: string[];
}

export const nlbDir = (labDir: string): string => path.join(labDir, 'nlb');
export const zoneConfigPath = (labDir: string, zoneShort: string): string => path.join(nlbDir(labDir), `${zoneShort}.config.json`);
export const zoneStatusPath = (labDir: string, zoneShort: string): string => path.join(nlbDir(labDir), `${zoneShort}.status.json`);
export const zoneLogPath = (labDir: string, zoneShort: string): string => path.join(nlbDir(labDir), `${zoneShort}.agent.log`);

/** Written whole or not at all, as the lab's own state file. */
export { writeStateFile as writeJsonAtomic } from '../../lab/state.js';

export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
