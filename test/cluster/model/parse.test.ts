import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { parseManifests } from '../../../cluster/model/parse.js';

function errorOf(text: string): NetlabError {
  try {
    parseManifests(text, 'm.yaml');
  } catch (err) {
    if (err instanceof NetlabError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('manifest parser', () => {
  it("takes the write-up's echo-service-nlb.yaml unchanged", () => {
    const model = parseManifests(readFileSync('fixtures/manifests/echo-service-nlb.yaml', 'utf8'), 'echo-service-nlb.yaml');
    expect(model.deployments.map((d) => [d.object.metadata?.name, d.object.spec?.replicas, d.where])).toEqual([['deploy-echo', 2, 'echo-service-nlb.yaml:3']]);
    const svc = model.services[0]!;
    expect(svc.where).toBe('echo-service-nlb.yaml:24');
    expect(svc.object.spec?.loadBalancerClass).toBe('service.k8s.aws/nlb');
    expect(svc.object.metadata?.annotations?.['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type']).toBe('ip');
  });

  it('says file:line:col for broken YAML', () => {
    const e = errorOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: [x\n');
    expect(e.oneLine()).toMatch(/^m\.yaml:\d+:\d+: invalid YAML/);
    expect(e.exitCode).toBe(2);
  });

  it('says file:line of the kind for an unsupported kind', () => {
    const e = errorOf('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n---\n# comment\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n');
    expect(e.where).toBe('m.yaml:8');
    expect(e.message).toContain('kind Job is not supported');
  });

  it('rejects invalid Services and Deployments with what to do', () => {
    expect(errorOf('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: Foo, ports: [{port: 80}]}\n').message).toContain("spec.type 'Foo'");
    expect(errorOf('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {}\n').hint).toContain('add at least one port');
    expect(errorOf('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: y}}\n    spec: {containers: [{name: c, image: i}]}\n').message).toContain('does not match');
    expect(errorOf('apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n').hint).toBe('use apiVersion: apps/v1');
    expect(errorOf('apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad_Name}\n').message).toContain('not a valid Kubernetes name');
  });

  it('ignores empty documents', () => {
    expect(parseManifests('---\n---\n', 'e.yaml')).toEqual({ namespaces: [], deployments: [], services: [] });
  });
});
