/**
 * Return routing for an API-mode emulator. With the client IP preserved (instance targets'
 * default), a node's reply to the client must go back through the emulator that DNATed the
 * request, not straight to the client; the netns lab's nodes get this for its zone nodes
 * (topology.ts). A node of a cluster whose emulator runs in API mode needs the same rules for the
 * emulator's MAC and address — applied by whoever can reach the nodes (the kind provider with
 * `docker exec`, a test with `ip netns exec`). Pure.
 */
import { RETURN_TABLE_BASE, planNodeReturnRouting, type ZoneNode } from '../dataplane/topology.js';

/** Mark and table slot 99: clear of the lab's zone nodes (1, 2, …). */
const SLOT = 99;

export function emulatorReturnNode(mac: string, ip: string): ZoneNode {
  return { zone: 'nlb-api', short: 'api', index: SLOT - 1, netns: '', fabricPort: '', mac, ip, mark: SLOT << 16, table: RETURN_TABLE_BASE + SLOT };
}

/** The iptables-restore text (mangle, --noflush) and `ip` lines for one node. */
export function emulatorReturnRouting(mac: string, ip: string): { iptablesRestore: string; ip: string[] } {
  return planNodeReturnRouting([emulatorReturnNode(mac, ip)]);
}
