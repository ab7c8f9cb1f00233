/**
 * A target-list change must not fail new connections. iptables-restore commits its document table
 * by table, so during a reload a packet can meet the new version of one table and the old version
 * of the next. This test applies the zone rules one table at a time — exactly the states a reload
 * passes through — and opens real connections through the NLB namespace in every such state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../../cluster/exec/exec.js';
import { renderZoneRules, type NatTarget } from '../../../../cluster/nlb/dataplane/rules.js';
import { TestNetns } from '../../../helpers/netns.js';
import { waitUntil } from '../../../helpers/wait.js';

const root = process.getuid?.() === 0;
const LB_PUBLIC = '203.0.113.99';
const TARGETS: NatTarget[] = [{ ip: '10.251.0.1', port: 8080 }, { ip: '10.251.0.2', port: 8080 }];
const CONNECTIONS = 40;

// Each target answers with its own address, so the test also sees where connections went.
const SERVER = `const net = require('node:net');
for (const h of ${JSON.stringify(TARGETS.map((t) => t.ip))}) net.createServer((s) => { s.on('error', () => {}); s.end(h); }).listen(8080, h);`;

const CLIENT = `const net = require('node:net');
const [host, n] = [process.argv[1], Number(process.argv[2])];
const one = () => new Promise((res) => {
  const s = net.connect(80, host);
  let got = '';
  s.setTimeout(2000, () => { s.destroy(); res('timeout'); });
  s.on('data', (d) => (got += d));
  s.on('end', () => res(got));
  s.on('error', (e) => res(e.code));
});
(async () => { const out = []; for (let i = 0; i < n; i++) out.push(await one()); console.log(JSON.stringify(out)); })();`;

function rules(targets: NatTarget[]): string {
  return renderZoneRules({
    loadBalancers: [{ name: 'reload', privateIp: '10.250.0.1', publicIp: LB_PUBLIC, listeners: [{ port: 80, protocol: 'TCP', mode: 'nat', preserveClientIp: true, stickySourceIp: false, targets }] }],
    terminated: [],
  });
}

/** The document's tables, each a complete iptables-restore document of its own. */
function tables(doc: string): string[] {
  return doc.split(/^(?=\*)/m).filter((b) => b.startsWith('*'));
}

describe.skipIf(!root)('zone rules reloaded while connections arrive', () => {
  const ns = new TestNetns();
  let cli = '';
  let lb = '';
  const connect = async (): Promise<string[]> => JSON.parse((await run(process.execPath, ['-e', CLIENT, LB_PUBLIC, String(CONNECTIONS)], { netns: cli })).stdout) as string[];

  beforeAll(async () => {
    cli = await ns.add('cli');
    lb = await ns.add('lb');
    await ns.link(cli, 'eth0', '10.250.0.2/24', lb, 'eth0', '10.250.0.1/24');
    await run('ip', ['-n', cli, 'route', 'add', `${LB_PUBLIC}/32`, 'via', '10.250.0.1']);
    await run('ip', ['-n', cli, 'route', 'add', '10.251.0.0/24', 'via', '10.250.0.1']);
    for (const t of TARGETS) await run('ip', ['-n', lb, 'addr', 'add', `${t.ip}/32`, 'dev', 'lo']);
    await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { netns: lb });
    ns.start(lb, process.execPath, ['-e', SERVER]);
    await waitUntil('both targets listening', async () => {
      const r = await run(process.execPath, ['-e', `require('node:net').connect(8080, '${TARGETS[1]!.ip}').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`], { netns: cli, allowFailure: true });
      return r.exitCode === 0;
    }, { timeoutMs: 10_000, intervalMs: 100 });
  });
  afterAll(() => ns.cleanup());

  for (const [from, to] of [[1, 2], [2, 1]] as const) {
    it(`${from} → ${to} targets: every connection is answered in every state the reload passes through`, async () => {
      await run('iptables-restore', [], { netns: lb, input: rules(TARGETS.slice(0, from)) });
      const states: string[] = [];
      for (const table of tables(rules(TARGETS.slice(0, to)))) {
        await run('iptables-restore', [], { netns: lb, input: table });
        const answers = await connect();
        const failed = answers.filter((a) => !TARGETS.some((t) => t.ip === a));
        states.push(`after ${table.split('\n')[0]}: ${failed.length} of ${CONNECTIONS} failed (${[...new Set(failed)].join(', ')})`);
      }
      expect(states.filter((s) => !s.includes(': 0 of')), states.join('; ')).toEqual([]);
      // In the final state the flow hash spreads new connections over every target.
      expect(new Set(await connect()).size).toBe(to);
    });
  }
});
