/**
 * The netlab container image, built on this machine from the host's own files (nothing is
 * pulled: netlab's machines reach no image registry). Three steps:
 *
 *   gatherImageInputs  (reads the host: which tools, their symlink chains, `ldd`, npm's
 *                       production packages, a content hash)
 *   planRootfs         (pure: inputs → every directory, symlink, file and text file of the rootfs,
 *                       the image tag and the `docker import --change` lines; snapshot-tested)
 *   buildImage         (thin: stage the plan with hard links, `tar`, `docker import`)
 *
 * Copying host files was chosen over debootstrap: it works offline, takes seconds, and the
 * binaries are exactly the ones netlab is tested with on the host (see docs/docker.md).
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { run, which } from '../exec/exec.js';
import { builtScript, PROJECT_ROOT } from '../exec/paths.js';
import type { DockerClient } from './client.js';

/** Where netlab lives inside the image. */
export const IMAGE_APP_DIR = '/opt/netlab';
export const IMAGE_REPOSITORY = 'netlab';

/**
 * Tools the containers run: node for netlab's processes, the capture and NAT tools the lab uses,
 * and a few basics so `docker exec -it C sh` is useful for a person poking at the lab.
 */
export const IMAGE_TOOLS = [
  'node', 'tcpdump', 'ip', 'iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore',
  'nsenter', 'conntrack', 'sh', 'env', 'sleep', 'cat', 'ls', 'kill',
] as const;

/** Host users and groups the image keeps (tcpdump drops root to its own user after opening the device). */
const KEPT_ACCOUNTS = ['root', 'nobody', 'nogroup', 'tcpdump'];

/** One host path as the image must hold it: a symlink (with its target text) or a regular file. */
export type HostPathEntry = { path: string; kind: 'symlink'; target: string } | { path: string; kind: 'file'; mode: number };

export interface ImageInputs {
  version: string;
  /** Content hash of everything that goes in (see gatherImageInputs). */
  hash: string;
  /** Top-level directory symlinks of a merged-/usr host (/bin → usr/bin, …). */
  rootLinks: { path: string; target: string }[];
  /** Tools, their libraries, the xtables modules, with every symlink on the way. */
  hostPaths: HostPathEntry[];
  /** netlab's own files, relative to the project root, copied as whole trees. */
  appTrees: string[];
  appFiles: string[];
  /** Lines of the host's /etc/passwd and /etc/group for KEPT_ACCOUNTS. */
  passwd: string[];
  group: string[];
}

export type RootfsEntry =
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'file'; path: string; source: string }
  | { kind: 'tree'; path: string; source: string }
  | { kind: 'text'; path: string; content: string; mode: number };

export interface ImagePlan {
  tag: string;
  entries: RootfsEntry[];
  /** `docker import --change` lines. */
  changes: string[];
}

export function imageTag(version: string, hash: string): string {
  return `${IMAGE_REPOSITORY}:${version}-${hash.slice(0, 12)}`;
}

function parentDirs(p: string): string[] {
  const dirs: string[] = [];
  for (let d = path.posix.dirname(p); d !== '/'; d = path.posix.dirname(d)) dirs.push(d);
  return dirs;
}

/** The rootfs as data: every entry once, parents before children, sorted for a stable snapshot. */
export function planRootfs(inputs: ImageInputs): ImagePlan {
  const entries = new Map<string, RootfsEntry>();
  const put = (e: RootfsEntry) => {
    if (!entries.has(e.path)) entries.set(e.path, e);
  };
  for (const l of inputs.rootLinks) put({ kind: 'symlink', path: l.path, target: l.target });
  for (const d of ['/etc', '/proc', '/sys', '/dev', '/run', '/var', '/root', IMAGE_APP_DIR]) put({ kind: 'dir', path: d, mode: 0o755 });
  put({ kind: 'dir', path: '/tmp', mode: 0o1777 });
  for (const h of inputs.hostPaths) {
    put(h.kind === 'symlink' ? { kind: 'symlink', path: h.path, target: h.target } : { kind: 'file', path: h.path, source: h.path });
  }
  for (const t of inputs.appTrees) put({ kind: 'tree', path: path.posix.join(IMAGE_APP_DIR, t), source: t });
  for (const f of inputs.appFiles) put({ kind: 'file', path: path.posix.join(IMAGE_APP_DIR, f), source: f });
  // tsc does not mark dist/cli/main.js executable (npm does that only on install), so a wrapper.
  put({ kind: 'text', path: '/usr/local/bin/netlab', content: `#!/bin/sh\nexec /usr/bin/node ${IMAGE_APP_DIR}/dist/cli/main.js "$@"\n`, mode: 0o755 });
  put({ kind: 'text', path: '/etc/passwd', content: `${inputs.passwd.join('\n')}\n`, mode: 0o644 });
  put({ kind: 'text', path: '/etc/group', content: `${inputs.group.join('\n')}\n`, mode: 0o644 });
  put({ kind: 'text', path: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n', mode: 0o644 });

  // Parent directories of everything, unless a root symlink (/lib → usr/lib) already covers them.
  const linked = new Set(inputs.rootLinks.map((l) => l.path));
  for (const e of [...entries.values()]) {
    for (const d of parentDirs(e.path)) {
      if (linked.has(d) || parentDirs(d).some((p) => linked.has(p))) continue;
      put({ kind: 'dir', path: d, mode: 0o755 });
    }
  }
  const sorted = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    tag: imageTag(inputs.version, inputs.hash),
    entries: sorted,
    changes: [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'ENV NODE_ENV=production',
      `WORKDIR ${IMAGE_APP_DIR}`,
      `LABEL netlab.version=${inputs.version} netlab.hash=${inputs.hash}`,
      // Plans give a script and its arguments as the command; `--entrypoint` overrides for the rest.
      'ENTRYPOINT ["/usr/bin/node"]',
      'CMD ["dist/cli/main.js", "--help"]',
    ],
  };
}

/** The library paths `ldd` prints (the `=> /path` and the interpreter lines; not vdso). */
export function parseLdd(text: string): string[] {
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    const arrow = line.match(/=>\s*(\/\S+)/);
    const bare = line.match(/^\s*(\/\S+)\s+\(0x/);
    const p = arrow?.[1] ?? bare?.[1];
    if (p) libs.push(p);
  }
  return libs;
}

/** Account lines of /etc/passwd or /etc/group whose name is in `names`. */
export function keepAccounts(text: string, names: readonly string[]): string[] {
  return text.split('\n').filter((l) => names.includes(l.split(':')[0] ?? ''));
}

/**
 * A host path and every symlink met on the way to the real file, each at a path whose directories
 * are real (so /lib/x86_64-linux-gnu/libc.so.6 is recorded at /usr/lib/x86_64-linux-gnu/…, which
 * the image reaches through its own /lib → usr/lib link).
 */
async function chainOf(p: string, seen: Map<string, HostPathEntry>): Promise<void> {
  let current = p;
  for (let hops = 0; hops < 40; hops++) {
    const at = path.join(await realpath(path.dirname(current)), path.basename(current));
    if (seen.has(at)) return;
    const st = await lstat(at);
    if (st.isSymbolicLink()) {
      const target = await readlink(at);
      seen.set(at, { path: at, kind: 'symlink', target });
      current = path.resolve(path.dirname(at), target);
      continue;
    }
    if (!st.isFile()) throw new NetlabError(`expected a file or symlink for the image, found something else`, { where: at });
    seen.set(at, { path: at, kind: 'file', mode: st.mode & 0o7777 });
    return;
  }
  throw new NetlabError('symlink loop', { where: p });
}

/** The libraries of many files in one `ldd` run. */
async function lddLibs(files: string[]): Promise<string[]> {
  if (files.length === 0) return [];
  // A static binary or a script makes ldd exit 1 ("not a dynamic executable") but the others' lists still print.
  const r = await run('ldd', files, { allowFailure: true });
  return parseLdd(r.stdout);
}

/** Package folders directly under node_modules that production needs (nested ones come with them). */
async function productionPackages(): Promise<string[]> {
  const r = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: PROJECT_ROOT, allowFailure: true });
  const top = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const rel = path.relative(PROJECT_ROOT, line.trim());
    const m = rel.match(/^node_modules\/(@[^/]+\/[^/]+|[^/]+)$/);
    if (m) top.add(`node_modules/${m[1]}`);
  }
  if (top.size === 0) {
    throw new NetlabError('npm ls found no production packages', { where: PROJECT_ROOT, hint: 'run npm ci first' });
  }
  return [...top].sort();
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Reads the host and the project: what the image holds, and a hash that changes when any of it does. */
export async function gatherImageInputs(): Promise<ImageInputs> {
  const pkg = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  // The image holds the built JavaScript: without a build there is nothing to ship.
  builtScript('cli/main.js');
  const seen = new Map<string, HostPathEntry>();
  const binaries: string[] = [];
  for (const tool of IMAGE_TOOLS) {
    const found = await which(tool);
    if (!found) throw new NetlabError(`${tool} is not installed on this host, and the netlab image is built from the host's files`, { hint: 'run scripts/setup.sh (or netlab doctor)' });
    await chainOf(found, seen);
    binaries.push(await realpath(found));
  }
  const appTrees = ['dist', ...(await productionPackages())];
  const appFiles = ['package.json'];
  try {
    if ((await stat(path.join(PROJECT_ROOT, 'cluster/scenarios'))).isDirectory()) appTrees.push('cluster/scenarios');
  } catch {
    // a checkout without scenarios has none to ship
  }
  // Native addons (cap's libpcap binding) need their libraries too; iptables loads its match and
  // target modules with dlopen, which ldd cannot see.
  const addons = (await Promise.all(appTrees.filter((t) => t.startsWith('node_modules/')).map((t) => filesUnder(path.join(PROJECT_ROOT, t))))).flat().filter((f) => f.endsWith('.node'));
  const libs = new Set(await lddLibs([...binaries, ...addons]));
  const xtablesLib = [...libs].find((l) => path.basename(l).startsWith('libxtables.so'));
  if (xtablesLib) {
    const modDir = path.join(path.dirname(await realpath(xtablesLib)), 'xtables');
    const modules = (await readdir(modDir)).map((m) => path.join(modDir, m));
    for (const m of modules) await chainOf(m, seen);
    for (const l of await lddLibs(modules)) libs.add(l);
  }
  for (const l of [...libs].sort()) await chainOf(l, seen);

  const rootLinks: { path: string; target: string }[] = [];
  for (const top of ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']) {
    try {
      if ((await lstat(top)).isSymbolicLink()) rootLinks.push({ path: top, target: await readlink(top) });
    } catch {
      // not on this host
    }
  }

  const hostPaths = [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  const hash = createHash('sha256');
  hash.update(`v${pkg.version}\n`);
  for (const l of rootLinks) hash.update(`L ${l.path} ${l.target}\n`);
  for (const h of hostPaths) {
    // Host files are identified by size and mtime: hashing node's 100 MB on every run is too slow.
    const id = h.kind === 'symlink' ? h.target : await stat(h.path).then((s) => `${s.size} ${s.mtimeMs}`);
    hash.update(`H ${h.path} ${h.kind} ${id}\n`);
  }
  // netlab's own files by content (a rebuild rewrites dist/ with new mtimes but the same bytes).
  const lock = path.join(PROJECT_ROOT, 'package-lock.json');
  for (const f of [lock, path.join(PROJECT_ROOT, 'package.json'), ...(await filesUnder(path.join(PROJECT_ROOT, 'dist'))), ...(appTrees.includes('cluster/scenarios') ? await filesUnder(path.join(PROJECT_ROOT, 'cluster/scenarios')) : [])]) {
    hash.update(`F ${path.relative(PROJECT_ROOT, f)}\n`);
    hash.update(await readFile(f));
  }
  const [passwd, group] = await Promise.all([readFile('/etc/passwd', 'utf8'), readFile('/etc/group', 'utf8')]);
  return {
    version: pkg.version,
    hash: hash.digest('hex'),
    rootLinks,
    hostPaths,
    appTrees,
    appFiles,
    passwd: keepAccounts(passwd, KEPT_ACCOUNTS),
    group: keepAccounts(group, KEPT_ACCOUNTS),
  };
}

/** A hard link where possible (same filesystem, no copy), else a copy. */
async function placeFile(source: string, dest: string): Promise<void> {
  try {
    await link(source, dest);
  } catch {
    await copyFile(source, dest);
  }
}

/** A folder copied as hard links (node_modules is ~100 MB: copying it costs seconds, linking does not). */
async function placeTree(source: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const e of await readdir(source, { withFileTypes: true })) {
    const from = path.join(source, e.name);
    const to = path.join(dest, e.name);
    if (e.isDirectory()) await placeTree(from, to);
    else if (e.isSymbolicLink()) await symlink(await readlink(from), to);
    else if (e.isFile()) await placeFile(from, to);
  }
}

/** Writes the plan into `root` (an empty folder). */
export async function stageRootfs(plan: ImagePlan, root: string): Promise<void> {
  for (const e of plan.entries) {
    const dest = path.join(root, e.path);
    switch (e.kind) {
      case 'dir':
        await mkdir(dest, { recursive: true });
        await chmod(dest, e.mode);
        break;
      case 'symlink':
        await symlink(e.target, dest);
        break;
      case 'file':
        await placeFile(path.isAbsolute(e.source) ? e.source : path.join(PROJECT_ROOT, e.source), dest);
        break;
      case 'tree':
        await placeTree(path.join(PROJECT_ROOT, e.source), dest);
        break;
      case 'text':
        await writeFile(dest, e.content, { mode: e.mode });
        break;
    }
  }
}

export interface BuiltImage {
  tag: string;
  /** false when an image with this tag (same netlab, same host files) already existed. */
  built: boolean;
  /** Size of the imported tar in bytes (0 when not built). */
  tarBytes: number;
}

/** Builds the image unless one with the same content hash exists. */
export async function buildImage(docker: DockerClient, opts: { inputs?: ImageInputs } = {}): Promise<BuiltImage> {
  const plan = planRootfs(opts.inputs ?? (await gatherImageInputs()));
  if (await docker.imageExists(plan.tag)) return { tag: plan.tag, built: false, tarBytes: 0 };
  const work = await mkdtemp(path.join(tmpdir(), 'netlab-image-'));
  try {
    const root = path.join(work, 'rootfs');
    await mkdir(root);
    await stageRootfs(plan, root);
    const tar = path.join(work, 'rootfs.tar');
    await run('tar', ['--create', '--file', tar, '--directory', root, '--numeric-owner', '--owner=0', '--group=0', '.'], { timeoutMs: 300_000 });
    await docker.imageImport(tar, plan.tag, plan.changes);
    return { tag: plan.tag, built: true, tarBytes: (await stat(tar)).size };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
