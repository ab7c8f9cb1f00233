#!/usr/bin/env node
/**
 * argv → typed options → the library functions. Command modules are imported lazily so that
 * `netlab --help` loads only commander.
 */
import type { Command } from 'commander';
import { plainDecodeArgs } from './decode-shortcut.js';
import { printError } from './output.js';

type Loader = () => Promise<{ run: (...args: never[]) => Promise<number | void> }>;

let verbose = false;

/** Wrap a lazy command module into a commander action; exit codes flow back through `process.exitCode`. */
function action(load: Loader) {
  return async (...args: unknown[]) => {
    const mod = await load();
    const code = await (mod.run as (...a: unknown[]) => Promise<number | void>)(...args.slice(0, -1));
    if (typeof code === 'number') process.exitCode = code;
  };
}

export function buildProgram({ Command, Option }: typeof import('commander')): Command {
  const program = new Command();
  program
    .name('netlab')
    .description('See, packet by packet, what Kubernetes load balancing does to traffic.')
    .version('0.1.0')
    .option('--verbose', 'print stack traces and every command run')
    .showHelpAfterError('(run netlab --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .hook('preAction', (cmd) => {
      verbose = Boolean(cmd.optsWithGlobals().verbose);
      if (verbose) process.env.NETLAB_VERBOSE = '1';
    });

  program
    .command('doctor')
    .description('check privileges, tools and kernel features; say what each missing piece blocks')
    .option('--json', 'print JSON')
    .action(action(() => import('./commands/doctor.js')));

  program
    .command('up')
    .description('stand up the lab (netns by default) with MetalLB and the NLB emulator')
    .addOption(new Option('--provider <provider>', 'lab provider').choices(['netns', 'kind']).default('netns'))
    .option('--name <lab>', 'lab name', 'netlab')
    .option('--nodes <n>', 'number of nodes, control plane included', '3')
    .option('--zones <zones>', 'comma-separated zone names for the workers', 'a,b')
    .option('--time-scale <x>', 'divide NLB health-check and drain timers by this factor', '1')
    .option('--dry-run', 'print every command and file, change nothing')
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.up }))));

  program
    .command('down')
    .description('remove everything the lab made (safe twice, safe after a crash)')
    .option('--name <lab>', 'lab name', 'netlab')
    .addOption(new Option('--provider <provider>', 'lab provider').choices(['netns', 'kind']))
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.down }))));

  program
    .command('status')
    .description('nodes, pods, services, load balancers, target health')
    .option('--name <lab>', 'lab name', 'netlab')
    .option('--json', 'print JSON')
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.status }))));

  program
    .command('apply')
    .description('realize Kubernetes objects from a YAML file in the lab')
    .requiredOption('-f, --filename <file>', 'YAML file (- for stdin)')
    .option('--name <lab>', 'lab name', 'netlab')
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.apply }))));

  program
    .command('delete')
    .description('remove the Kubernetes objects of a YAML file from the lab')
    .requiredOption('-f, --filename <file>', 'YAML file (- for stdin)')
    .option('--name <lab>', 'lab name', 'netlab')
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.remove }))));

  program
    .command('get')
    .description('kubectl-like views: nodes | pods | svc | ep')
    .argument('<resource>', 'nodes, pods, svc or ep')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-o, --output <format>', 'wide or json')
    .option('--name <lab>', 'lab name', 'netlab')
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.get }))));

  program
    .command('exec')
    .description("run a command in a node's, pod's or the client's network namespace")
    .argument('<target>', 'node name, pod name, or client')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-n, --namespace <ns>', 'namespace of the pod', 'default')
    .option('--name <lab>', 'lab name', 'netlab')
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.exec }))));

  program
    .command('node')
    .description('stop or start a lab node (to watch MetalLB fail over): node stop|start NAME')
    .argument('<verb>', 'stop or start')
    .argument('<node>', 'node name')
    .option('--name <lab>', 'lab name', 'netlab')
    .action(action(() => import('./commands/lab.js').then((m) => ({ run: m.node }))));

  program
    .command('describe-target-health')
    .description('target health of a Service\'s NLB, shaped like aws elbv2 describe-target-health')
    .argument('<service>', 'Service name')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--name <lab>', 'lab name', 'netlab')
    .action(action(() => import('./commands/nlb.js')));

  program
    .command('scenarios')
    .description('list the scenario catalogue')
    .option('--json', 'print JSON')
    .action(action(() => import('./commands/capture.js').then((m) => ({ run: m.scenarios }))));

  program
    .command('capture')
    .description('run a scenario (or capture a Service on an existing cluster), capture at every point, print hop table + distribution + verdict')
    .option('--scenario <name>', 'scenario name (see netlab scenarios) or a folder')
    .option('--service <ns/name>', 'capture this Service on an existing cluster (with --kubeconfig/--context) instead of a scenario')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default its current-context)')
    .option('--duration <time>', 'how long to capture on the cluster, e.g. 30s or 2m (default 30s)')
    .option('--capture-image <image>', 'image of the capture DaemonSet (needs tcpdump, nsenter, ip, find, grep, timeout)')
    .option('--nodes <names>', 'comma-separated nodes to capture on (default: the Service\'s endpoint nodes)')
    .option('--client <ips>', 'comma-separated client addresses; flows from others (probes) are background')
    .option('--requests <n>', 'number of HTTP requests', '100')
    .option('--out <dir>', 'where to keep pcaps, manifest and reports')
    .addOption(new Option('--source <source>', 'capture source').choices(['pcap', 'ebpf', 'both']).default('pcap'))
    .addOption(new Option('--capturer <capturer>', 'pcap capturer').choices(['cap', 'tcpdump']))
    .option('--name <lab>', 'lab name', 'netlab')
    .option('--json', 'print report.json')
    .option('--html <file>', 'also write an HTML report')
    .option('--pcapng <file>', 'also write an annotated, merged pcapng')
    .option('--keep', 'leave the scenario applied (or the capture namespace deployed) after the run')
    .addOption(new Option('--provider <provider>', 'lab provider (kind: a kind cluster in Docker, see docs/kind.md)').choices(['netns', 'kind']).default('netns'))
    .action(action(() => import('./commands/capture.js').then((m) => ({ run: m.capture }))));

  program
    .command('compare')
    .description('run scenarios and print their hops side by side')
    .argument('<scenarios...>', 'scenario names')
    .option('--requests <n>', 'number of HTTP requests per scenario', '100')
    .option('--name <lab>', 'lab name', 'netlab')
    .option('--json', 'print JSON')
    .option('--html <file>', 'also write an HTML report')
    .action(action(() => import('./commands/capture.js').then((m) => ({ run: m.compare }))));

  program
    .command('decode')
    .description('decode a pcap/pcapng file or stdin: one line per packet, NDJSON, or counts')
    .argument('<file>', 'capture file, or - for stdin')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'ndjson', 'summary']).default('text'))
    .action(action(() => import('./commands/decode.js')));

  program
    .command('analyze')
    .description('correlate captures from several points and print per-hop tables')
    .argument('<inputs...>', 'a capture folder with manifest.json, or NAME=FILE pairs')
    .option('--json', 'print JSON (CONTRACT.md)')
    .option('--markdown', 'print Markdown')
    .option('--html <file>', 'also write an HTML report')
    .option('--pcapng <file>', 'also write an annotated, merged pcapng')
    .action(action(() => import('./commands/analyze.js')));

  return program;
}

async function main(): Promise<void> {
  const decode = plainDecodeArgs(process.argv.slice(2));
  if (decode !== null) {
    try {
      const { run } = await import('./commands/decode.js');
      process.exitCode = await run(decode.file, { format: decode.format });
    } catch (err) {
      process.exitCode = printError(err, false);
    }
    return;
  }
  // Loaded only here so the decode shortcut above never pays for it.
  const commander = await import('commander');
  const program = buildProgram(commander);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof commander.CommanderError) {
      // commander already printed its message; help and version are successes.
      process.exitCode = err.exitCode === 0 ? 0 : 1;
      return;
    }
    process.exitCode = printError(err, verbose || process.argv.includes('--verbose'));
  }
}

await main();
