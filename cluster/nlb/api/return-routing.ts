/**
 * Return routing for an API-mode emulator. With the client IP preserved (instance targets'
 * default), a node's reply to the client must go back through the emulator that DNATed the
 * request, not straight to the client; the netns lab's nodes get this for its zone nodes
 * (topology.ts). A node of a cluster whose emulator runs in API mode needs the same rules for the
 * emulator's MAC and address: `planNodeReturnRouting`/`ensureNodeReturnRouting` with this node,
 * applied by whoever can reach the nodes (the API-mode test with `ip netns exec`; the kind provider
 * routes replies with plain routes instead, docs/kind.md). Pure.
 */
import { RETURN_TABLE_BASE, type ZoneNode } from '../dataplane/topology.js';

/** Mark and table slot 99: clear of the lab's zone nodes (1, 2, …). */
const SLOT = 99;

export function emulatorReturnNode(mac: string, ip: string): ZoneNode {
  return { zone: 'nlb-api', short: 'api', index: SLOT - 1, netns: '', fabricPort: '', mac, ip, mark: SLOT << 16, table: RETURN_TABLE_BASE + SLOT };
}

