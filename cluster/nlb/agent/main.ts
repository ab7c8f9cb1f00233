#!/usr/bin/env node
/**
 * The NLB node agent: one per zone, started by the lab's controller inside `<lab>-nlb-<zone>`.
 * Usage: main.js --config FILE --status FILE [--lab-dir DIR]
 */
import { parseArgs } from 'node:util';
import { run } from '../../exec/exec.js';
import { probe } from '../health/probe.js';
import { ZoneAgent } from './zone-agent.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    status: { type: 'string' },
    // Only a marker, so `netlab down` can find this process after a crash.
    'lab-dir': { type: 'string' },
  },
});
if (!values.config || !values.status) {
  process.stderr.write('usage: main.js --config FILE --status FILE [--lab-dir DIR]\n');
  process.exit(1);
}

const TICK_MS = 50;
const agent = new ZoneAgent(values.config, values.status, {
  probe,
  applyRules: async (text) => {
    await run('iptables-restore', [], { input: text, timeoutMs: 10_000 });
  },
  now: () => Date.now(),
});

let stopping = false;
async function loop(): Promise<void> {
  while (!stopping) {
    try {
      await agent.tick();
    } catch (err) {
      process.stderr.write(`${new Date().toISOString()} ${(err as Error).message}\n`);
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    stopping = true;
    void agent.stop().finally(() => process.exit(0));
  });
}
process.stdout.write(`${new Date().toISOString()} nlb agent ${process.pid} config=${values.config}\n`);
void loop();
