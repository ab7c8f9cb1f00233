import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = 'dist/cli/main.js';
const netlab = (...args: string[]) => spawnSync('node', [BIN, ...args], { encoding: 'utf8' });
const oneLine = (stderr: string) => stderr.trim().split('\n');

describe('lab commands: bad input gets one line and the right exit code', () => {
  it('apply with broken YAML: exit 2, file:line:col', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-cli-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n');
    const r = netlab('apply', '-f', file, '--name', `t${randomBytes(2).toString('hex')}x`);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^netlab: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: invalid YAML`));
  });

  it('apply of an unreadable file: exit 2 with the path', () => {
    const r = netlab('apply', '-f', '/nonexistent/x.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot read /nonexistent/x.yaml: ENOENT');
  });

  it('a lab that is not up: exit 2 and what to run', () => {
    const r = netlab('get', 'pods', '--name', 'tnosuchlab');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("netlab: no lab named 'tnosuchlab' is up — run netlab up --name tnosuchlab");
  });

  it('usage errors: exit 1', () => {
    expect(netlab('get', 'deployments').status).toBe(1);
    expect(netlab('get', 'pods', '-o', 'yaml').status).toBe(1);
    expect(netlab('up', '--name', 'Bad_Name').status).toBe(1);
    expect(netlab('up', '--nodes', 'three').status).toBe(1);
    expect(netlab('node', 'reboot', 'worker').status).toBe(1);
  });

  it('down of a lab that does not exist is a no-op', () => {
    const r = netlab('down', '--name', `t${randomBytes(2).toString('hex')}z`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('nothing to remove');
  });

  it('up --dry-run prints the plan and creates nothing', () => {
    const lab = `t${randomBytes(2).toString('hex')}d`;
    const r = netlab('up', '--dry-run', '--name', lab);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ip netns add ${lab}-fabric`);
    expect(r.stdout).toContain(`ip -n ${lab}-fabric link add node1 type veth peer name eth0 netns ${lab}-worker`);
    expect(r.stdout).toContain(`ip -n ${lab}-worker route add 10.244.2.0/24 via 172.18.0.4 dev eth0`);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(lab);
  });
});
