import { describe, expect, it } from 'vitest';
import { runArgs } from '../../../cluster/docker/client.js';
import { clientPlan, clientRoutingPlan, emulatorPlan } from '../../../cluster/kind/containers.js';
import { kindAddressPlan, parseIpv4Subnet } from '../../../cluster/kind/network.js';

const IMAGE = { tag: 'netlab:0.1.0-abc123', root: '/opt/netlab' };
const addresses = kindAddressPlan(parseIpv4Subnet('172.19.0.0/16')!, ['a', 'b']);

describe('kind lab containers', () => {
  it('runs the API-driven NLB emulator on the kind network with one address per zone', () => {
    const plan = emulatorPlan('lab1', IMAGE, addresses, '/root/.netlab/kind/lab1/kubeconfig.internal', 10);
    expect(runArgs(plan)).toMatchSnapshot();
    expect(plan.cmd).toEqual(expect.arrayContaining(['--zones', 'a=172.19.255.192,b=172.19.255.193', '--pool', '172.19.255.97-172.19.255.126', '--cluster-name', 'lab1', '--time-scale', '10']));
    expect(plan.capAdd).toContain('NET_ADMIN');
  });

  it('runs an idle client that netlab drives with docker exec', () => {
    expect(runArgs(clientPlan('lab1', IMAGE, addresses))).toMatchSnapshot();
  });

  it('routes 198.51.100.0/24 back through the emulator and gives the client its documentation address', () => {
    const cmds = clientRoutingPlan('lab1', ['lab1-worker', 'lab1-worker2'], addresses);
    expect(cmds.map((c) => `${c.container}: ${c.argv.join(' ')}`)).toMatchInlineSnapshot(`
      [
        "lab1-client: ip address replace 198.51.100.10/32 dev eth0",
        "lab1-client: ip route replace 172.19.255.96/27 dev eth0 src 198.51.100.10",
        "lab1-nlb: ip route replace 198.51.100.0/24 via 172.19.255.190 dev eth0",
        "lab1-worker: ip route replace 198.51.100.0/24 via 172.19.255.191 dev eth0",
        "lab1-worker2: ip route replace 198.51.100.0/24 via 172.19.255.191 dev eth0",
      ]
    `);
  });
});
