/** Programs a node's rules: one `iptables-restore` of whole filter and nat tables inside the node's namespace. */
import { run } from '../exec/exec.js';

export async function applyNodeRules(netns: string, text: string): Promise<void> {
  await run('iptables-restore', ['-w', '5'], { netns, input: text });
}
