import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerClient } from '../../../cluster/docker/client.js';
import { NODE_IMAGE } from '../../../cluster/kind/config.js';
import { kindProviderChecks, kindVerdict } from '../../../cluster/kind/doctor.js';
import { FakeBinaries } from '../../helpers/fake-binaries.js';

let bins: FakeBinaries;
beforeAll(() => {
  bins = new FakeBinaries();
  bins.activate();
});
afterAll(() => bins.cleanup());

const info = { args: ['info'], stdout: JSON.stringify({ ServerVersion: '26.1.5', Driver: 'overlay2', CgroupVersion: '2' }) };

describe('kind provider doctor checks', () => {
  it('says the kind provider can run when the engine answers, kind is the pinned release and the node image is local', async () => {
    bins.install('docker', [info, { args: ['image', 'inspect'], stdout: 'sha256:1234\n' }]);
    bins.install('kind', [{ args: ['version'], stdout: 'kind v0.32.0 go1.24.6 linux/amd64\n' }]);
    const r = await kindProviderChecks(new DockerClient(), 'kind');
    expect(r.map((c) => [c.name, c.status])).toEqual([['kind: kind binary', 'ok'], ['kind: pinned node image', 'ok']]);
    expect(bins.lines('docker')).toContain(`docker image inspect --format {{.Id}} ${NODE_IMAGE}`);
    expect(kindVerdict(r)).toBe('The kind provider can run here.');
  });

  it('names what is missing: no engine running, kind not on PATH', async () => {
    bins.install('docker', [{ args: ['info'], stdout: JSON.stringify({ ServerVersion: '', ClientInfo: { Version: '26.1.5' } }), stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n', exitCode: 1 }]);
    const r = await kindProviderChecks(new DockerClient(), 'kind-not-here');
    expect(r.map((c) => [c.name, c.status])).toEqual([['kind: kind binary', 'missing']]);
    expect(r[0]!.fix).toMatch(/kind\.sigs\.k8s\.io/);
    const engineRow = { name: 'docker engine', status: 'missing' as const, detail: 'none answers', blocks: '', fix: null, required: false };
    expect(kindVerdict([engineRow, ...r])).toBe('The kind provider cannot run here: missing docker engine, kind binary.');
  });

  it('warns about another kind release and a node image that would have to be pulled', async () => {
    bins.install('docker', [info, { args: ['image', 'inspect'], stderr: 'Error response from daemon: No such image: kindest/node\n', exitCode: 1 }]);
    bins.install('kind', [{ args: ['version'], stdout: 'kind v0.27.0 go1.23.4 linux/amd64\n' }]);
    const r = await kindProviderChecks(new DockerClient(), 'kind');
    expect(r.map((c) => [c.name, c.status])).toEqual([['kind: kind binary', 'warn'], ['kind: pinned node image', 'warn']]);
    expect(r[0]!.detail).toContain('v0.27.0 (netlab pins its node image for v0.32.0)');
    expect(r[1]!.fix).toBe(`docker pull ${NODE_IMAGE}`);
    expect(kindVerdict(r)).toBe('The kind provider can run here, with warnings: kind binary, pinned node image.');
  });
});
