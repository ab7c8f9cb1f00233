/** `netlab describe-target-health SERVICE [-n NS]`: target health shaped like `aws elbv2 describe-target-health`. */
import { checkLabName, labDir } from '../../cluster/lab/names.js';
import { requireState } from '../../cluster/lab/state.js';
import { serviceTargetHealth } from '../../cluster/nlb/describe.js';

export async function run(service: string, opts: { namespace: string; name: string }): Promise<number> {
  const lab = checkLabName(opts.name);
  const state = await requireState(lab);
  const report = await serviceTargetHealth(state, labDir(lab), opts.namespace, service);
  // The AWS CLI's JSON output: four-space indentation.
  process.stdout.write(`${JSON.stringify(report.aws, null, 4)}\n`);
  return 0;
}
