import { describe, expect, it } from 'vitest';
import { dockerCheckResults, type DockerFacts } from '../../../cluster/docker/doctor.js';

const info = { serverVersion: '20.10.24+dfsg1', storageDriver: 'overlay2', operatingSystem: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1', cgroupVersion: '2', containers: 0, images: 1 };
const base: DockerFacts = {
  dockerd: 'Docker version 20.10.24+dfsg1, build 5d6db84',
  cli: '/usr/bin/docker',
  address: 'unix:///var/run/docker.sock',
  engine: { ok: true, info },
  netlabVersion: '0.1.0',
  images: [],
};
const rows = (f: DockerFacts) => dockerCheckResults(f).map((r) => `${r.name}: ${r.status} — ${r.detail}${r.fix ? ` — fix: ${r.fix}` : ''}`);

describe('dockerCheckResults', () => {
  it('nothing installed: one row, with the install command', () => {
    expect(rows({ ...base, dockerd: null, cli: null, engine: { ok: false, reason: 'no docker CLI' } })).toMatchInlineSnapshot(`
      [
        "dockerd: missing — not installed — fix: apt-get install -y docker.io (scripts/setup.sh does it without starting the service)",
      ]
    `);
  });

  it('installed but no engine running (a fresh machine after scripts/setup.sh)', () => {
    expect(rows({ ...base, engine: { ok: false, reason: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' } })).toMatchInlineSnapshot(`
      [
        "dockerd: ok — Docker version 20.10.24+dfsg1, build 5d6db84",
        "docker engine: missing — none answers at unix:///var/run/docker.sock: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running? — fix: service docker start (or systemctl start docker)",
      ]
    `);
  });

  it('an engine with netlab image of another version and no kind node image', () => {
    expect(rows({ ...base, images: ['netlab:0.0.9-aaaaaaaaaaaa', 'debian:12'] })).toMatchInlineSnapshot(`
      [
        "dockerd: ok — Docker version 20.10.24+dfsg1, build 5d6db84",
        "docker engine: ok — unix:///var/run/docker.sock: server 20.10.24+dfsg1, overlay2, cgroup v2",
        "netlab image: warn — no netlab:0.1.0-* image yet",
        "kindest/node image: missing — not in this engine, and kind pulls it from a registry — fix: on a machine with registry access: docker pull the kind release's kindest/node image (or docker load a saved one)",
      ]
    `);
  });

  it('everything the kind provider needs from Docker', () => {
    const r = dockerCheckResults({ ...base, images: ['kindest/node:v1.36.1', 'netlab:0.1.0-0123456789ab'] });
    expect(r.map((x) => [x.name, x.status])).toEqual([
      ['dockerd', 'ok'],
      ['docker engine', 'ok'],
      ['netlab image', 'ok'],
      ['kindest/node image', 'ok'],
    ]);
    expect(r.every((x) => !x.required && x.blocks.length > 0)).toBe(true);
  });
});
