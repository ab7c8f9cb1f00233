import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatherImageInputs, imageTag, keepAccounts, parseLdd, planRootfs, stageRootfs, type ImageInputs } from '../../../cluster/docker/image.js';

/** Shaped like a Debian 12 host with merged /usr and iptables behind the alternatives system. */
const inputs: ImageInputs = {
  version: '0.1.0',
  hash: 'dae42682eec0f00dfeedbeef',
  rootLinks: [
    { path: '/bin', target: 'usr/bin' },
    { path: '/lib', target: 'usr/lib' },
    { path: '/lib64', target: 'usr/lib64' },
    { path: '/sbin', target: 'usr/sbin' },
  ],
  hostPaths: [
    { path: '/usr/bin/node', kind: 'file', mode: 0o755 },
    { path: '/usr/sbin/iptables', kind: 'symlink', target: '/etc/alternatives/iptables' },
    { path: '/etc/alternatives/iptables', kind: 'symlink', target: '/usr/sbin/iptables-nft' },
    { path: '/usr/sbin/iptables-nft', kind: 'symlink', target: 'xtables-nft-multi' },
    { path: '/usr/sbin/xtables-nft-multi', kind: 'file', mode: 0o755 },
    { path: '/usr/lib/x86_64-linux-gnu/libc.so.6', kind: 'file', mode: 0o755 },
    { path: '/usr/lib64/ld-linux-x86-64.so.2', kind: 'symlink', target: '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
    { path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', kind: 'file', mode: 0o755 },
    { path: '/usr/lib/x86_64-linux-gnu/xtables/libxt_statistic.so', kind: 'file', mode: 0o644 },
  ],
  appTrees: ['dist', 'node_modules/@kubernetes/client-node', 'node_modules/yaml'],
  appFiles: ['package.json'],
  passwd: ['root:x:0:0:root:/root:/bin/bash', 'tcpdump:x:102:105::/nonexistent:/usr/sbin/nologin'],
  group: ['root:x:0:', 'tcpdump:x:105:'],
};

describe('planRootfs', () => {
  it('lays out the host files, netlab under /opt/netlab, accounts and the import changes', () => {
    expect(planRootfs(inputs)).toMatchSnapshot();
  });

  it('creates every parent before its children and none below a root symlink', () => {
    const plan = planRootfs(inputs);
    const paths = plan.entries.map((e) => e.path);
    for (const [i, p] of paths.entries()) {
      for (let d = path.posix.dirname(p); d !== '/'; d = path.posix.dirname(d)) {
        const at = paths.indexOf(d);
        if (['/bin', '/lib', '/lib64', '/sbin'].includes(d)) throw new Error(`${p} lies below the root link ${d}`);
        expect(at, `${d} before ${p}`).toBeGreaterThanOrEqual(0);
        expect(at).toBeLessThan(i);
      }
    }
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('tags with the version and 12 hash digits, so a changed netlab gets a new image', () => {
    expect(imageTag('0.1.0', 'dae42682eec0f00d')).toBe('netlab:0.1.0-dae42682eec0');
    expect(planRootfs({ ...inputs, hash: 'ffff' + inputs.hash }).tag).not.toBe(planRootfs(inputs).tag);
  });
});

describe('parseLdd', () => {
  it('keeps resolved libraries and the interpreter, drops the vdso', () => {
    const text = [
      '\tlinux-vdso.so.1 (0x00007ffd4b3f2000)',
      '\tlibpcap.so.0.8 => /lib/x86_64-linux-gnu/libpcap.so.0.8 (0x00007f6e70e9c000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f6e7041e000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f6e70efc000)',
    ].join('\n');
    expect(parseLdd(text)).toEqual(['/lib/x86_64-linux-gnu/libpcap.so.0.8', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });
});

describe('keepAccounts', () => {
  it('keeps only the named accounts', () => {
    expect(keepAccounts('root:x:0:0::/root:/bin/sh\ndaemon:x:1:1::/:/x\ntcpdump:x:102:105::/:/x\n', ['root', 'tcpdump'])).toEqual(['root:x:0:0::/root:/bin/sh', 'tcpdump:x:102:105::/:/x']);
  });
});

describe('the image inputs of this host, staged', () => {
  let root: string | undefined;
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('holds node, tcpdump and iptables with their libraries, reachable through the image own links', async () => {
    const real = await gatherImageInputs();
    const plan = planRootfs(real);
    root = await mkdtemp(path.join(tmpdir(), 'netlab-rootfs-test-'));
    await stageRootfs(plan, root);
    // Resolve inside the staged tree the way the container will: follow each link below `root`.
    const resolveIn = async (p: string): Promise<string> => {
      let current = p;
      for (let i = 0; i < 40; i++) {
        const parts = current.split('/').filter(Boolean);
        let built = '/';
        let moved = false;
        for (const [k, part] of parts.entries()) {
          const next = path.posix.join(built, part);
          const onDisk = path.join(root!, next);
          const st = await stat(onDisk).catch(() => null);
          const link = await readlink(onDisk).catch(() => null);
          if (link !== null) {
            const rest = parts.slice(k + 1).join('/');
            current = path.posix.join(link.startsWith('/') ? link : path.posix.join(built, link), rest);
            moved = true;
            break;
          }
          if (!st) throw new Error(`${p}: ${next} is missing in the image`);
          built = next;
        }
        if (!moved) return built;
      }
      throw new Error(`${p}: link loop`);
    };
    for (const p of ['/usr/bin/node', '/usr/bin/tcpdump', '/sbin/iptables', '/usr/sbin/conntrack', '/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libpcap.so.0.8', '/opt/netlab/dist/cluster/workloads/echo.js', '/opt/netlab/node_modules/yaml/package.json']) {
      await expect(resolveIn(p), p).resolves.toMatch(/^\//);
    }
    expect(JSON.parse(await readFile(path.join(root, 'opt/netlab/package.json'), 'utf8')).type).toBe('module');
    const xt = plan.entries.filter((e) => e.path.includes('/xtables/libxt_'));
    expect(xt.length, 'iptables match modules (loaded with dlopen)').toBeGreaterThan(10);
  });
});
