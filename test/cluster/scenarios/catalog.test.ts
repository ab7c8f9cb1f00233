import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { listScenarioNames, loadScenario, loadScenarioDir } from '../../../cluster/scenarios/catalog.js';

const MISSION = ['clusterip', 'nodeport', 'instance-cluster', 'local-policy', 'ip-mode', 'ip-mode-ppv2', 'metallb-cluster', 'metallb-local', 'readiness-gate', 'drain', 'gateway-xff'];

describe('scenario catalogue', () => {
  it('has every scenario of MISSION.md, each with valid YAML whose traffic targets one of its Services', () => {
    expect(listScenarioNames().sort()).toEqual([...MISSION].sort());
    for (const name of MISSION) {
      const s = loadScenario(name);
      const docs = parseAllDocuments(s.manifests).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
      const services = docs.filter((d) => d.kind === 'Service').map((d) => d.metadata.name);
      expect(services, name).toContain(s.traffic.service);
    }
  });

  it('states the lessons of MISSION.md', () => {
    expect(loadScenario('local-policy').expect).toMatchObject({ clientIpAtBackend: 'peer', lbDecisions: 1, crossNode: false });
    expect(loadScenario('instance-cluster').expect).toMatchObject({ clientIpAtBackend: 'lost', lbDecisions: 2 });
    expect(loadScenario('ip-mode').expect).toMatchObject({ clientIpAtBackend: 'lost', sourceSeenByBackend: 'lb' });
    expect(loadScenario('ip-mode-ppv2').expect.clientIpAtBackend).toBe('ppv2');
    expect(loadScenario('gateway-xff').expect.clientIpAtBackend).toBe('xff');
    expect(loadScenario('metallb-local').expect.clientIpAtBackend).toBe('peer');
  });

  describe('bad input', () => {
    let dir: string;
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const lineOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(NetlabError);
        return (err as NetlabError).oneLine();
      }
      throw new Error('did not throw');
    };
    const write = (scenario: string) => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-scn-'));
      writeFileSync(path.join(dir, 'scenario.yaml'), scenario);
      writeFileSync(path.join(dir, 'manifests.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\n');
    };
    it('names the file and line of a YAML syntax error', () => {
      write('summary: x\ntraffic: [\n');
      expect(lineOf(() => loadScenarioDir(dir))).toMatch(/scenario\.yaml:\d+: /);
    });
    it('names the field that is wrong', () => {
      write('summary: x\ntraffic: {from: client, service: x, via: teleport}\nexpect: {clientIpAtBackend: peer}\n');
      expect(lineOf(() => loadScenarioDir(dir))).toMatch(/scenario\.yaml: traffic\.via must be/);
    });
    it('lists the catalogue for an unknown name', () => {
      expect(lineOf(() => loadScenario('no-such'))).toMatch(/unknown scenario 'no-such' — choose one of: clusterip/);
    });
  });
});
