import { describe, expect, it } from 'vitest';
import { NetlabError } from '../../../../analyzer/errors.js';
import { buildProbeProgram, READY_MARKER } from '../../../../cluster/capture/ebpf/program.js';

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

  it.each([
    [{ inodes: [], ports: [80] }, /at least one network namespace/],
    [{ inodes: [0], ports: [80] }, /not a 32-bit inode/],
    [{ inodes: [7], ports: [70000] }, /port 70000 is not a TCP\/UDP port/],
    [{ inodes: [7], ports: [80], payloadWords: 9 }, /payloadWords 9 is outside 0-8/],
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
