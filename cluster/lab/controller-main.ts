#!/usr/bin/env node
/**
 * The lab's controller process, one per lab, started detached by `up` (pid in the state file, log
 * in /run/netlab/L/controller.log). Every tick it takes the lock and runs one reconcile pass: that
 * is where time-driven changes happen (probe results → pod readiness → endpoints → kube-proxy
 * rules, MetalLB fail-over, the NLB emulator's health checks). It exits when the lab goes away.
 *
 * Why CLI commands also reconcile synchronously: `netlab apply` must return with namespaces,
 * processes and rules in place (scripts curl right after it), and one code path, under one lock,
 * cannot disagree with itself. The controller only adds the passage of time.
 *
 * Usage: controller-main.js --name LAB [--period-ms 250] --lab-dir DIR
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { labDir } from './names.js';
import { reconcile } from './reconcile.js';
import { readState, withLock, writeState } from './state.js';

const { values } = parseArgs({ options: { name: { type: 'string' }, 'period-ms': { type: 'string', default: '250' }, 'lab-dir': { type: 'string' } } });
const lab = values.name!;
const period = Number(values['period-ms']);
const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    stopping = true;
  });
}

async function tick(): Promise<boolean> {
  return withLock(lab, async () => {
    const state = await readState(lab);
    if (!state || state.phase === 'deleting') return false;
    if (state.phase !== 'ready') return true;
    await reconcile(state, log);
    state.controller.heartbeat = new Date().toISOString();
    await writeState(state);
    return true;
  });
}

log(`controller for lab ${lab} started (pid ${process.pid})`);
while (!stopping) {
  try {
    if (!(await tick())) break;
  } catch (err) {
    if (!existsSync(labDir(lab))) break;
    log(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  await new Promise((r) => setTimeout(r, period));
}
log('controller stopped');
