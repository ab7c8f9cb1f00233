/**
 * Pod exec over the API's WebSocket, against the fake API server whose exec runs the argv in a
 * network namespace of this file: output channels, exit codes, binary streams, cut sockets, errors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../cluster/kube/config.js';
import { execCollect, execToFile, type ExecTarget } from '../../../cluster/remote/exec-stream.js';
import { TestNetns } from '../../helpers/netns.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';
import { attachFakeExec, type FakeExec } from '../../support/fake-kube-exec.js';

const nets = new TestNetns();
let api: FakeKubeApi;
let fakeExec: FakeExec;
let dir: string;
const at: ExecTarget = { namespace: 'tools', pod: 'shell', container: 'main' };
const kc = () => loadKubeConfig({ kubeconfig: api.kubeconfigPath });

beforeAll(async () => {
  const ns = await nets.add('exec');
  dir = await mkdtemp(path.join(tmpdir(), 'netlab-exec-'));
  api = await FakeKubeApi.start();
  fakeExec = attachFakeExec(api, (namespace, pod) => (namespace === 'tools' && pod === 'shell' ? ns : null));
});

afterAll(async () => {
  await fakeExec?.close();
  await api?.close();
  await nets.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('exec over WebSocket', () => {
  it('collects stdout and stderr apart, and the exit code from the status channel', async () => {
    const r = await execCollect(kc(), at, ['sh', '-c', 'printf out; printf err >&2; exit 3']);
    expect(r).toEqual({ end: 'exited', exitCode: 3, stdout: 'out', stderr: 'err', message: expect.stringMatching(/non-zero exit code.*exit code 3/) });
    expect(await execCollect(kc(), at, ['true'])).toEqual({ end: 'exited', exitCode: 0, stdout: '', stderr: '', message: '' });
    expect(fakeExec.records.at(-1)!.protocol).toBe('v5.channel.k8s.io');
  });

  it('streams 4 MiB of binary stdout into a file byte for byte', async () => {
    const src = path.join(dir, 'random.bin');
    const data = randomBytes(4 << 20);
    await writeFile(src, data);
    const dst = path.join(dir, 'copy.bin');
    const s = execToFile(kc(), at, ['sh', '-c', `echo listening >&2; cat ${src}`], dst, /listening/);
    await s.ready;
    const done = await s.done;
    expect(done).toEqual(expect.objectContaining({ end: 'exited', exitCode: 0, bytes: data.length }));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(await readFile(dst))).toBe(sha(data));
  });

  it('closing the socket ends the stream as cut, with what arrived so far', async () => {
    const dst = path.join(dir, 'cut.txt');
    const s = execToFile(kc(), at, ['sh', '-c', 'echo listening >&2; echo first; exec sleep 60'], dst, /listening/);
    await s.ready;
    s.close();
    const done = await s.done;
    expect(done.end).toBe('cut');
    expect(done.exitCode).toBeNull();
    fakeExec.killPod('tools', 'shell');
  });

  it('a command that ends or stays silent before its ready line is an error that says so', async () => {
    const ended = execToFile(kc(), at, ['sh', '-c', 'echo "tcpdump: not found" >&2; exit 127'], path.join(dir, 'x'), /listening/);
    await expect(ended.ready).rejects.toThrow(/exec in pod tools\/shell \(sh …\) ended before capturing: tcpdump: not found/);
    const silent = execToFile(kc(), at, ['sleep', '30'], path.join(dir, 'y'), /listening/, 300);
    await expect(silent.ready).rejects.toThrow(/did not start capturing within 0.3 s: no output/);
    silent.close();
    fakeExec.killPod('tools', 'shell');
  });

  it('a pod the API does not have: one line with what to check', async () => {
    const err = await execCollect(kc(), { ...at, pod: 'gone' }, ['true']).catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/^exec in pod tools\/gone \(true\) could not start: Unexpected server response: 404$/);
    expect((err as { hint?: string }).hint).toBe('check that the pod is Running and the API server is reachable');
  });
});
