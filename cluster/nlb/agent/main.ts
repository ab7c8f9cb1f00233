#!/usr/bin/env node
/**
 * The NLB node agent: one per zone, started by the lab's controller inside `<lab>-nlb-<zone>`.
 * Usage: main.js --config FILE --status FILE [--lab-dir DIR]
 */
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { run } from '../../exec/exec.js';
import { renderZoneRules } from '../dataplane/rules.js';
import { probe } from '../health/probe.js';
import { readJson, type ZoneConfig, type ZoneStatus } from './files.js';
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
const configPath = values.config;
const agent = new ZoneAgent(
  {
    probe,
    // The zone's namespace is the agent's own: its rules own the whole tables.
    applyRules: async (rules) => {
      await run('iptables-restore', [], { input: renderZoneRules(rules), timeoutMs: 10_000 });
    },
    now: () => Date.now(),
  },
  values.status,
  await readJson<ZoneStatus>(values.status).catch(() => null),
);

let configMtimeMs = -1;
/** The controller replaces the config file atomically; a new mtime means a new config. */
async function reloadConfig(): Promise<void> {
  let mtime: number;
  try {
    mtime = (await stat(configPath)).mtimeMs;
  } catch {
    return;
  }
  if (mtime === configMtimeMs) return;
  const config = await readJson<ZoneConfig>(configPath);
  if (!config) return;
  configMtimeMs = mtime;
  agent.configure(config);
}

let stopping = false;
async function loop(): Promise<void> {
  while (!stopping) {
    try {
      await reloadConfig();
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
