import { randomBytes } from 'node:crypto';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { run } from '../../../cluster/exec/exec.js';
import { addrListCommand, nodeCaptureCommand, parseAddrList, pidFromLookup, pidLookupCommand, podCaptureCommand, podCgroupKeys } from '../../../cluster/remote/commands.js';

describe('capture commands', () => {
  it('bounds tcpdump by the duration with SIGINT, so it flushes and reports drops', () => {
    expect(nodeCaptureCommand('tcp and (port 80)', 30)).toEqual(['timeout', '-s', 'INT', '30', 'tcpdump', '-i', 'any', '-B', '16384', '-y', 'LINUX_SLL2', '-nn', '-U', '--immediate-mode', '-s', '4096', '--time-stamp-precision', 'nano', '-w', '-', 'tcp and (port 80)']);
    expect(podCaptureCommand(4242, 'icmp', 5).slice(0, 9)).toEqual(['timeout', '-s', 'INT', '5', 'nsenter', '-t', '4242', '-n', 'tcpdump']);
    expect(addrListCommand(7)).toEqual(['nsenter', '-t', '7', '-n', 'ip', '-j', 'addr', 'show']);
  });

  it('looks a pod up by container IDs and both spellings of its UID', () => {
    expect(podCgroupKeys({ uid: '1f2e-33', containerIds: ['abcdef0123456789'] })).toEqual(['abcdef0123456789', 'pod1f2e-33', 'pod1f2e_33']);
    expect(pidFromLookup('/proc/900/cgroup\n/proc/31/cgroup\nfind: ‘/proc/77/cgroup’: No such file\n')).toBe(31);
    expect(pidFromLookup('')).toBeNull();
    const addrs = '[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","scope":"host"}]},'
      + '{"ifindex":5,"ifname":"eth0","addr_info":[{"family":"inet","local":"172.18.0.3","scope":"global"},{"family":"inet6","local":"fe80::1","scope":"link"}]},'
      + '{"ifindex":6,"ifname":"cni0","addr_info":[{"family":"inet","local":"10.244.1.1","scope":"global"}]}]';
    expect(parseAddrList(addrs)).toEqual({ ifindex: { 1: 'lo', 5: 'eth0', 6: 'cni0' }, addresses: ['172.18.0.3', '10.244.1.1'] });
  });

  it('the /proc scan finds a real process by the container ID in its cgroup path (cgroup v2, as the kubelet lays it out)', async () => {
    const id = randomBytes(32).toString('hex');
    const root = '/sys/fs/cgroup/unified';
    const group = `${root}/netlab-t${randomBytes(2).toString('hex')}`;
    const scope = `${group}/cri-containerd-${id}.scope`;
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await mkdir(scope, { recursive: true });
      await writeFile(`${scope}/cgroup.procs`, String(child.pid));
      const [file, ...args] = pidLookupCommand(podCgroupKeys({ uid: '', containerIds: [id] }));
      const r = await run(file!, args, { allowFailure: true });
      expect(pidFromLookup(r.stdout)).toBe(child.pid);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await rmdir(scope).catch(() => undefined);
      await rmdir(group).catch(() => undefined);
    }
  });
});
