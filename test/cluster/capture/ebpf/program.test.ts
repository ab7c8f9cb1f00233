import { describe, expect, it } from 'vitest';
import { NetlabError } from '../../../../analyzer/errors.js';
import { buildProbeProgram, parseCidr, READY_MARKER, tracepointCount } from '../../../../cluster/capture/ebpf/program.js';

const LAB = { inodes: [4026532246, 4026532177], ports: [8080, 80, 31234] };

describe('buildProbeProgram', () => {
  it('renders the lab filter into the kernel side of the probe', () => {
    expect(buildProbeProgram(LAB)).toMatchSnapshot();
  });

  it('renders without page-fragment reads and with all ports', () => {
    expect(buildProbeProgram({ inodes: [7], ports: [], pages: null, payloadWords: 2 })).toMatchSnapshot();
  });

  it('compares ports in network byte order as the probe loads them', () => {
    const text = buildProbeProgram({ inodes: [7], ports: [80, 8080] });
    // 80 = 0x0050 is 0x5000 when read little-endian; 8080 = 0x1f90 → 0x901f.
    expect(text).toContain('$sp == 0x5000 || $dp == 0x5000 || $sp == 0x901f || $dp == 0x901f');
    expect(text).not.toMatch(/\$dp == 80\b/);
  });

  it('is the same text for the same namespaces and ports in any order', () => {
    expect(buildProbeProgram({ inodes: [...LAB.inodes].reverse(), ports: [...LAB.ports].reverse() })).toBe(buildProbeProgram(LAB));
  });

  it('prints one format field per argument on every event line', () => {
    for (const words of [0, 4, 8]) {
      const text = buildProbeProgram({ inodes: [7], ports: [80], payloadWords: words });
      const printfs = [...text.matchAll(/printf\("([46] [^"]*)\\n",\n\s*([^;]*)\);/g)];
      expect(printfs).toHaveLength(4);
      for (const [, format, args] of printfs) {
        const conversions = format.match(/%l?[xs]/g) ?? [];
        // split on top-level commas only
        let depth = 0;
        let count = 1;
        for (const ch of args) {
          if (ch === '(') depth++;
          else if (ch === ')') depth--;
          else if (ch === ',' && depth === 0) count++;
        }
        expect(count).toBe(conversions.length);
        expect(conversions.length).toBe((format.startsWith('4') ? 24 : 26) + words);
      }
    }
    expect(buildProbeProgram({ inodes: [7], ports: [] })).toContain(READY_MARKER);
  });

  it('renders the lab as netlab capture runs it: namespaces learned at creation, lab ranges, request heads', () => {
    const text = buildProbeProgram({
      inodes: LAB.inodes, ports: [], learnNetnsPrefix: '/run/netns/e2e1234-', requestHeadBytes: 256,
      addresses: ['198.51.100.0/24', '203.0.113.0/24', '172.18.0.0/16', '10.244.0.0/16', '10.96.0.0/16'],
    });
    expect(text).toMatchSnapshot();
    expect(text).toContain('strncmp(str(args->dir_name), "/run/netns/e2e1234-", 19) == 0');
    expect(text).toContain('$ns == 4026532177 || $ns == 4026532246 || @learned[$ns]');
    // With an address filter only IPv4 is traced.
    expect(text).not.toContain('0xdd86');
    expect(tracepointCount({ learnNetnsPrefix: '/run/netns/x-' })).toBe(3);
    expect(tracepointCount({})).toBe(2);
  });

  it('compares address ranges as the probe loads them (little-endian)', () => {
    // 198.51.100.0 is c6 33 64 00 in memory.
    expect(parseCidr('198.51.100.0/24')).toEqual({ net: 0x006433c6, mask: 0x00ffffff });
    expect(parseCidr('10.244.0.0/16')).toEqual({ net: 0xf40a, mask: 0xffff });
    expect(parseCidr('172.18.255.200/29')).toEqual({ net: 0xc8ff12ac, mask: 0xf8ffffff });
    expect(parseCidr('0.0.0.0/0')).toEqual({ net: 0, mask: 0 });
    expect(buildProbeProgram({ inodes: [7], ports: [], addresses: ['203.0.113.10/32'] })).toContain('$sa == 0xa7100cb');
  });

  it('prints request heads in 64-byte H lines, one format field per argument, only for request methods', () => {
    const text = buildProbeProgram({ inodes: [7], ports: [], requestHeadBytes: 192 });
    const lines = [...text.matchAll(/printf\("(H [^"]*)\\n",\n\s*([^;]*)\);/g)];
    // 3 lines per family and direction, at payload offsets 32, 96, 160
    expect(lines.map((l) => l[1].split(' ')[5])).toEqual(Array(4).fill(['20', '60', 'a0']).flat());
    for (const [, format, args] of lines) {
      expect(format.match(/%l?x/g)).toHaveLength(args.split(', ').length);
    }
    // "GET " loads as 0x20544547.
    expect(text).toContain('*(uint32 *)$pp == 0x20544547');
    expect(buildProbeProgram({ inodes: [7], ports: [] })).not.toContain('printf("H ');
  });

  it.each([
    [{ inodes: [], ports: [80] }, /at least one network namespace/],
    [{ inodes: [0], ports: [80] }, /not a 32-bit inode/],
    [{ inodes: [7], ports: [70000] }, /port 70000 is not a TCP\/UDP port/],
    [{ inodes: [7], ports: [80], payloadWords: 9 }, /payloadWords 9 is outside 0-8/],
    [{ inodes: [7], ports: [], requestHeadBytes: 100 }, /requestHeadBytes 100 is not a multiple of 64/],
    [{ inodes: [7], ports: [], requestHeadBytes: 576 }, /requestHeadBytes 576/],
    [{ inodes: [7], ports: [], addresses: ['10.244.0.0'] }, /address range '10.244.0.0' is not an IPv4 network/],
    [{ inodes: [7], ports: [], addresses: ['10.300.0.0/16'] }, /not an IPv4 network/],
    [{ inodes: [7], ports: [], learnNetnsPrefix: 'lab-' }, /not a \/run\/netns\/ name prefix/],
    [{ inodes: [7], ports: [], learnNetnsPrefix: '/run/netns/a"b' }, /not a \/run\/netns\/ name prefix/],
  ])('rejects %j with a usage error', (opts, message) => {
    let err: unknown;
    try {
      buildProbeProgram(opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetlabError);
    expect((err as NetlabError).exitCode).toBe(1);
    expect((err as NetlabError).message).toMatch(message);
  });
});
