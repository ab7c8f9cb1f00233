/**
 * API mode's pure side: plans from API objects, addresses from the pool, pod CIDR routes, Service
 * ingress, readiness-gate conditions and drain finalizers per pod, the published report, the
 * rules in the emulator's own chains, the nodes' return routing, and the command line.
 */
import { describe, expect, it } from 'vitest';
import type { ZoneStatus } from '../../../../cluster/nlb/agent/files.js';
import { parseApiOptions } from '../../../../cluster/nlb/api/options.js';
import {
  allocateApiAddresses,
  defaultPool,
  planServices,
  podChanges,
  podCidrRoutes,
  serviceReports,
  type ApiZone,
} from '../../../../cluster/nlb/api/plan.js';
import { serviceIngress } from '../../../../cluster/nlb/health/view.js';
import { DRAIN_FINALIZER } from '../../../../cluster/nlb/plan/build.js';
import { emulatorReturnNode } from '../../../../cluster/nlb/api/return-routing.js';
import { planNodeReturnRouting } from '../../../../cluster/nlb/dataplane/topology.js';
import { renderZoneRules } from '../../../../cluster/nlb/dataplane/rules.js';
import { targetViews } from '../../../../cluster/nlb/health/view.js';
import { readinessGateType } from '../../../../cluster/nlb/plan/build.js';
import type { Node, Pod, Service } from '../../../../cluster/nlb/plan/types.js';
import { UsageError } from '../../../../analyzer/errors.js';

const A = 'service.beta.kubernetes.io/';
const zones: ApiZone[] = [{ zone: 'lab-1a', ip: '172.18.2.2' }, { zone: 'lab-1b', ip: '172.18.2.3' }];
const pool = { prefix: '172.18.2.', first: 10, last: 250 };

const node = (name: string, i: number, zone: string): Node => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
  spec: { podCIDR: `10.244.${i}.0/24`, podCIDRs: [`10.244.${i}.0/24`], providerID: `kind://docker/kind/${name}` },
  status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${i + 2}` }, { type: 'Hostname', address: name }] },
});
const nodes = [node('worker', 1, 'lab-1a'), node('worker2', 2, 'lab-1b')];
const pod = (name: string, ip: string, nodeName: string, extra: Partial<Pod['metadata']> = {}, gates: string[] = []): Pod => ({
  metadata: { name, namespace: 'default', labels: { app: 'web' }, resourceVersion: '7', ...extra },
  spec: { nodeName, containers: [{ name: 'web', ports: [{ containerPort: 8080 }] }], readinessGates: gates.map((conditionType) => ({ conditionType })) },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'ContainersReady', status: 'True' }, { type: 'Ready', status: gates.length ? 'False' : 'True' }] },
});
const svc = (name: string, annotations: Record<string, string>): Service => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: { [`${A}aws-load-balancer-scheme`]: 'internet-facing', ...annotations } },
  spec: { type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31080 }] },
});
const ipSvc = svc('ip', { [`${A}aws-load-balancer-nlb-target-type`]: 'ip' });
const services = [svc('inst', {}), ipSvc, svc('bad', { [`${A}aws-load-balancer-nlb-target-type`]: 'pods' }), { metadata: { name: 'metallb', namespace: 'default' }, spec: { type: 'LoadBalancer' } } as Service];
const input = (pods: Pod[]) => ({ clusterName: 'kind', region: 'lab-1', timeScale: 1, zones, services, nodes, pods });

describe('planServices', () => {
  it('plans NLB Services with the lab\'s planner, records why one has no plan, leaves MetalLB\'s alone', () => {
    const r = planServices(input([pod('web-1', '10.244.1.5', 'worker')]));
    expect(r.handled.map((s) => s.metadata?.name)).toEqual(['bad', 'inst', 'ip']);
    expect(r.plans.map((p) => `${p.service.name} ${p.name} ${p.targetGroups[0]!.targetType} ${p.targetGroups[0]!.targets.map((t) => `${t.ip}:${t.port}/${t.availabilityZone}`).join(',')}`)).toMatchInlineSnapshot(`
      [
        "inst k8s-default-inst-6cfc555590 instance 172.18.0.4:31080/lab-1b,172.18.0.3:31080/lab-1a",
        "ip k8s-default-ip-3f8751f762 ip 10.244.1.5:8080/lab-1a",
      ]
    `);
    expect(r.events['default/bad']).toEqual([{ type: 'Warning', reason: 'FailedBuildModel', message: 'Failed build model due to annotation service.beta.kubernetes.io/aws-load-balancer-nlb-target-type="pods": unsupported target type (use "instance" or "ip")' }]);
  });

  it('drops the load balancer of a Service being deleted', () => {
    const deleting = { ...ipSvc, metadata: { ...ipSvc.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(planServices({ ...input([]), services: [deleting] }).plans).toEqual([]);
  });
});

describe('addresses, routes, ingress', () => {
  const plans = planServices(input([pod('web-1', '10.244.1.5', 'worker')])).plans;

  it('gives each load balancer one pool address per zone, keeps them, frees the gone ones', () => {
    const book = allocateApiAddresses({}, plans, zones, pool);
    expect(book).toMatchInlineSnapshot(`
      {
        "k8s-default-inst-6cfc555590": {
          "lab-1a": {
            "privateIp": "172.18.2.10",
            "publicIp": "172.18.2.10",
          },
          "lab-1b": {
            "privateIp": "172.18.2.11",
            "publicIp": "172.18.2.11",
          },
        },
        "k8s-default-ip-3f8751f762": {
          "lab-1a": {
            "privateIp": "172.18.2.12",
            "publicIp": "172.18.2.12",
          },
          "lab-1b": {
            "privateIp": "172.18.2.13",
            "publicIp": "172.18.2.13",
          },
        },
      }
    `);
    const after = allocateApiAddresses(book, plans.slice(1), zones, pool);
    expect(Object.keys(after)).toEqual([plans[1]!.name]);
    expect(after[plans[1]!.name]!['lab-1a']!.privateIp).toBe('172.18.2.12');
    expect(() => allocateApiAddresses({}, plans, zones, { prefix: '172.18.2.', first: 10, last: 12 })).toThrow(/no free NLB address left in \.10-\.12/);
    expect(defaultPool(zones)).toEqual({ prefix: '172.18.2.', first: 10, last: 250 });
  });

  it('routes each node\'s pod CIDR via its InternalIP; ingress is the DNS name then the zone addresses', () => {
    expect(podCidrRoutes(nodes)).toEqual([
      { cidr: '10.244.1.0/24', via: '172.18.0.3', node: 'worker' },
      { cidr: '10.244.2.0/24', via: '172.18.0.4', node: 'worker2' },
    ]);
    const book = allocateApiAddresses({}, plans, zones, pool);
    expect(serviceIngress(plans[1], book)).toEqual([
      { hostname: plans[1]!.dnsName },
      { ip: '172.18.2.12', ipMode: 'Proxy' },
      { ip: '172.18.2.13', ipMode: 'Proxy' },
    ]);
    expect(serviceIngress(undefined, book)).toEqual([]);
  });
});

describe('podChanges', () => {
  const now = '2026-11-27T12:00:00.000Z';
  const gate = (pods: Pod[]) => readinessGateType(planServices(input(pods)).plans.find((p) => p.service.name === 'ip')!.targetGroups[0]!.name);
  const status = (state: 'initial' | 'healthy' | 'draining', ip: string, podKey: string): ZoneStatus => ({
    zone: 'lab-1a',
    pid: 1,
    updatedAt: now,
    listeners: [],
    errors: [],
    targets: [{ loadBalancer: planServices(input([])).plans.find((p) => p.service.name === 'ip')!.name, targetGroup: '', id: ip, ip, port: 8080, healthCheckPort: 8080, availabilityZone: 'lab-1a', node: 'worker', pod: podKey, state, reason: state === 'healthy' ? null : state === 'initial' ? 'Elb.InitialHealthChecking' : 'Target.DeregistrationInProgress', description: null, connections: null, drainUntil: null }],
  });

  it('adds the drain finalizer to ip targets\' pods and writes the gate condition (False, then True with reason and message removed)', () => {
    const g = gate([pod('web-1', '10.244.1.5', 'worker')]);
    const p = pod('web-1', '10.244.1.5', 'worker', {}, [g]);
    const plans = planServices(input([p])).plans;
    const tg = plans.find((x) => x.service.name === 'ip')!.targetGroups[0]!.name;
    const st = (s: 'initial' | 'healthy') => [{ ...status(s, '10.244.1.5', 'default/web-1'), targets: status(s, '10.244.1.5', 'default/web-1').targets.map((t) => ({ ...t, targetGroup: tg })) }];
    const first = podChanges([p], plans, new Map(plans.map((x) => [x.name, targetViews(x, st('initial'))])), st('initial'), now);
    expect(first).toEqual([{
      namespace: 'default', name: 'web-1', resourceVersion: '7', finalizers: [DRAIN_FINALIZER],
      conditions: [{ type: g, status: 'False', reason: 'Elb.InitialHealthChecking', message: null, lastTransitionTime: now }],
    }]);
    const labelled: Pod = { ...p, metadata: { ...p.metadata, finalizers: [DRAIN_FINALIZER] }, status: { ...p.status, conditions: [...p.status!.conditions!, { type: g, status: 'False', reason: 'Elb.InitialHealthChecking', lastTransitionTime: now }] } };
    const later = '2026-11-27T12:00:05.000Z';
    expect(podChanges([labelled], plans, new Map(plans.map((x) => [x.name, targetViews(x, st('initial'))])), st('initial'), later)).toEqual([]);
    expect(podChanges([labelled], plans, new Map(plans.map((x) => [x.name, targetViews(x, st('healthy'))])), st('healthy'), later)[0]!.conditions).toEqual([
      { type: g, status: 'True', reason: null, message: null, lastTransitionTime: later },
    ]);
  });

  it('keeps the finalizer on a deleted pod while a zone still reports its target, removes it after', () => {
    const p = pod('web-1', '10.244.1.5', 'worker', { deletionTimestamp: now, finalizers: ['other/x', DRAIN_FINALIZER] });
    const plans = planServices(input([p])).plans;
    expect(podChanges([p], plans, new Map(), [status('draining', '10.244.1.5', 'default/web-1')], now)).toEqual([]);
    expect(podChanges([p], plans, new Map(), [], now)).toEqual([{ namespace: 'default', name: 'web-1', resourceVersion: '7', finalizers: ['other/x'], conditions: [] }]);
  });
});

describe('serviceReports', () => {
  it('one JSON document per handled Service: load balancer, addresses, DNS failover, events, describe-target-health', () => {
    const apiPlans = planServices(input([pod('web-1', '10.244.1.5', 'worker')]));
    const book = allocateApiAddresses({}, apiPlans.plans, zones, pool);
    const data = serviceReports(apiPlans, book, new Map(apiPlans.plans.map((p) => [p.name, targetViews(p, [])])), []);
    expect(Object.keys(data)).toEqual(['default.bad', 'default.inst', 'default.ip']);
    expect(JSON.parse(data['default.ip']!)).toMatchInlineSnapshot(`
      {
        "addresses": {
          "lab-1a": "172.18.2.12",
          "lab-1b": "172.18.2.13",
        },
        "dnsAddresses": [
          "172.18.2.12",
          "172.18.2.13",
        ],
        "dnsName": "k8s-default-ip-3f8751f762-609ebf1c5cc89eed.elb.lab-1.amazonaws.com",
        "events": [
          {
            "message": "Successfully reconciled",
            "reason": "SuccessfullyReconciled",
            "type": "Normal",
          },
        ],
        "loadBalancer": "k8s-default-ip-3f8751f762",
        "targetGroups": [
          {
            "TargetHealthDescriptions": [
              {
                "HealthCheckPort": "8080",
                "Target": {
                  "AvailabilityZone": "lab-1a",
                  "Id": "10.244.1.5",
                  "Port": 8080,
                },
                "TargetHealth": {
                  "Description": "Target registration is in progress",
                  "Reason": "Elb.RegistrationInProgress",
                  "State": "initial",
                },
              },
            ],
            "arn": "arn:aws:elasticloadbalancing:lab-1:000000000000:targetgroup/k8s-default-ip-61a516b534/e2fb11a0ee06c235",
            "name": "k8s-default-ip-61a516b534",
            "port": 8080,
            "targetType": "ip",
          },
        ],
      }
    `);
    expect(JSON.parse(data['default.bad']!).loadBalancer).toBeNull();
  });
});

describe('data plane in the emulator\'s namespace', () => {
  it('rules go into NLBAPI-* chains (built-ins untouched); one address per load balancer, no duplicates', () => {
    const text = renderZoneRules(
      {
        loadBalancers: [{ name: 'lab-1a/k8s-default-ip-0123456789', privateIp: '172.18.2.12', publicIp: '172.18.2.12', listeners: [{ port: 80, protocol: 'TCP', mode: 'nat', preserveClientIp: false, stickySourceIp: false, targets: [{ ip: '10.244.1.5', port: 8080 }] }] }],
        terminated: [{ lbIps: ['172.18.2.12'], ip: '10.244.2.7', port: 8080, protocol: 'TCP' }],
      },
      { ownChainPrefix: 'NLBAPI-' },
    );
    expect(text).toMatchInlineSnapshot(`
      "*nat
      :NLBAPI-PREROUTING - [0:0]
      :NLBAPI-POSTROUTING - [0:0]
      :NLB-d3f06de2-t80 - [0:0]
      -A NLB-d3f06de2-t80 -p tcp -m comment --comment "lab-1a/k8s-default-ip-0123456789 TCP:80" -j HMARK --hmark-tuple src,dst,sport,dport,proto --hmark-mod 1 --hmark-offset 1 --hmark-rnd 0x4e4c4221
      -A NLBAPI-PREROUTING -d 172.18.2.12/32 -p tcp -m tcp --dport 80 -m comment --comment "lab-1a/k8s-default-ip-0123456789 TCP:80" -j NLB-d3f06de2-t80
      -A NLB-d3f06de2-t80 -p tcp -m mark --mark 1 -m comment --comment "target 10.244.1.5:8080" -j DNAT --to-destination 10.244.1.5:8080
      -A NLBAPI-POSTROUTING -p tcp -m conntrack --ctstate DNAT --ctorigdst 172.18.2.12/32 --ctorigdstport 80 -m comment --comment "lab-1a/k8s-default-ip-0123456789 TCP:80" -j SNAT --to-source 172.18.2.12
      COMMIT
      *filter
      :NLBAPI-INPUT - [0:0]
      :NLBAPI-FORWARD - [0:0]
      -A NLBAPI-FORWARD -p tcp -m conntrack --ctorigdst 172.18.2.12/32 --ctreplsrc 10.244.2.7/32 --ctreplsrcport 8080 -m comment --comment "deregistered 10.244.2.7:8080: connection termination" -j REJECT --reject-with tcp-reset
      COMMIT
      "
    `);
  });

  it('nodes send replies to preserved client IPs back through the emulator\'s MAC', () => {
    expect(planNodeReturnRouting([emulatorReturnNode('02:4e:4c:42:00:63', '172.18.2.2')])).toMatchInlineSnapshot(`
      {
        "ip": [
          "rule add fwmark 0x630000/0xff0000 lookup 4299 pref 4299",
          "route replace default via 172.18.2.2 dev eth0 table 4299",
        ],
        "iptablesRestore": "*mangle
      :NETLAB-NLB-RETURN - [0:0]
      -A NETLAB-NLB-RETURN -i eth0 -m conntrack --ctstate NEW -m mac --mac-source 02:4e:4c:42:00:63 -m comment --comment "from NLB node nlb-api" -j CONNMARK --set-xmark 0x630000/0xff0000
      -A NETLAB-NLB-RETURN -m conntrack --ctdir REPLY -m connmark ! --mark 0x0/0xff0000 -j CONNMARK --restore-mark --nfmask 0xff0000 --ctmask 0xff0000
      COMMIT
      ",
      }
    `);
  });
});

describe('parseApiOptions', () => {
  const base = ['--kubeconfig', 'k', '--interface', 'eth0'];
  it('reads short and full zone names, the pool, and defaults', () => {
    const o = parseApiOptions([...base, '--zones', 'a=172.18.1.2,lab-1b=172.18.1.3']);
    expect(o.zones).toEqual([{ zone: 'lab-1a', ip: '172.18.1.2' }, { zone: 'lab-1b', ip: '172.18.1.3' }]);
    expect(o.pool).toEqual({ prefix: '172.18.1.', first: 10, last: 250 });
    expect([o.clusterName, o.region, o.timeScale, o.statusNamespace, o.statusName]).toEqual(['netlab', 'lab-1', 1, 'kube-system', 'netlab-nlb-status']);
    expect(parseApiOptions([...base, '--zones', 'a=10.0.0.2', '--pool', '10.0.1.20-10.0.1.30']).pool).toEqual({ prefix: '10.0.1.', first: 20, last: 30 });
  });

  it('refuses bad flags with one line saying what to do', () => {
    const msg = (argv: string[]) => {
      try {
        parseApiOptions(argv);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as UsageError).message;
      }
      throw new Error('accepted');
    };
    expect(msg(['--zones', 'a=1.2.3.4', '--interface', 'eth0'])).toBe('--kubeconfig is required');
    expect(msg([...base, '--zones', 'a=300.1.1.1'])).toBe("--zones: 'a=300.1.1.1' is not ZONE=IPv4");
    expect(msg([...base, '--zones', 'a=10.0.0.2,a=10.0.0.3'])).toBe('--zones: zone lab-1a or address 10.0.0.3 given twice');
    expect(msg([...base, '--zones', 'a=10.0.0.2', '--pool', '10.0.0.10-10.0.1.20'])).toBe("--pool '10.0.0.10-10.0.1.20' must be a range inside one /24");
    expect(msg([...base, '--zones', 'a=10.0.0.12', '--pool', '10.0.0.10-10.0.0.20'])).toBe('zone address 10.0.0.12 is inside the load balancer pool');
    expect(msg([...base, '--zones', 'a=10.0.0.2', '--time-scale', '0'])).toBe("--time-scale '0' is not a positive number");
    expect(msg([...base, '--zones', 'a=10.0.0.2', '--bogus'])).toMatch(/^Unknown option '--bogus'/);
  });
});
