import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base32, extChain, fwChain, sepChain, servicePortName, svcChain, svlChain } from '../../../cluster/kubeproxy/hash.js';

/** An independent computation: coreutils `base32` over the raw sha256 digest. */
function coreutilsHash(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  return execFileSync('base32', ['-w', '0'], { input: digest, encoding: 'utf8' }).slice(0, 16);
}

describe('kube-proxy chain names', () => {
  it('match base32(sha256(servicePortName + protocol)) computed by coreutils', () => {
    const spn = servicePortName('default', 'svc-nlb-ip-type', undefined);
    expect(spn).toBe('default/svc-nlb-ip-type');
    const h = coreutilsHash('default/svc-nlb-ip-typetcp');
    expect(svcChain(spn, 'tcp')).toBe(`KUBE-SVC-${h}`);
    expect(svlChain(spn, 'tcp')).toBe(`KUBE-SVL-${h}`);
    expect(extChain(spn, 'tcp')).toBe(`KUBE-EXT-${h}`);
    expect(fwChain(spn, 'tcp')).toBe(`KUBE-FW-${h}`);
  });

  it('hash the endpoint into KUBE-SEP names and the port name into named ports', () => {
    const named = servicePortName('kube-system', 'kube-dns', 'dns-tcp');
    expect(named).toBe('kube-system/kube-dns:dns-tcp');
    expect(sepChain(named, 'tcp', '10.244.0.3:53')).toBe(`KUBE-SEP-${coreutilsHash('kube-system/kube-dns:dns-tcptcp10.244.0.3:53')}`);
  });

  it('equals the names a real cluster shows for the default kubernetes Service', () => {
    // kube-proxy on every cluster writes this chain for default/kubernetes:https over TCP.
    expect(svcChain('default/kubernetes:https', 'tcp')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
  });

  it('base32 pads like RFC 4648', () => {
    expect(base32(Buffer.from('f'))).toBe('MY======');
    expect(base32(Buffer.from('foobar'))).toBe('MZXW6YTBOI======');
  });
});
