/** `netlab describe-target-health SERVICE [-n NS]`: target health shaped like `aws elbv2 describe-target-health`. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { serviceTargetHealth, type NlbStateView } from '../../cluster/nlb/describe.js';

function labDir(lab: string): string {
  return path.join(process.env.NETLAB_RUN_DIR ?? '/run/netlab', lab);
}

async function readLabState(lab: string): Promise<NlbStateView> {
  const file = path.join(labDir(lab), 'state.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new NetlabError(`no lab named '${lab}' is up`, { hint: `run netlab up --name ${lab}` });
  }
  try {
    return JSON.parse(text) as NlbStateView;
  } catch {
    throw new NetlabError('the lab\'s state file is not valid JSON', { where: file, hint: `run netlab down --name ${lab}` });
  }
}

export async function run(service: string, opts: { namespace: string; name: string }): Promise<number> {
  const state = await readLabState(opts.name);
  const report = await serviceTargetHealth(state, labDir(opts.name), opts.namespace, service);
  // The AWS CLI's JSON output: four-space indentation.
  process.stdout.write(`${JSON.stringify(report.aws, null, 4)}\n`);
  return 0;
}
