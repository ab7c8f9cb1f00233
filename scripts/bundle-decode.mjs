// Replaces tsc's dist/cli/commands/decode.js with one bundled file holding the command and the
// whole decoder: `netlab decode` then loads 3 modules instead of ~27 (about 0.05 s of CPU at
// start, see docs/decode.md). analyzer/errors.js stays a shared import so NetlabError keeps one
// class identity for the CLI's printError.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const errorsModule = path.join(root, 'analyzer', 'errors.ts');

await build({
  entryPoints: [path.join(root, 'cli', 'commands', 'decode.ts')],
  outfile: path.join(root, 'dist', 'cli', 'commands', 'decode.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  allowOverwrite: true,
  logLevel: 'warning',
  plugins: [{
    name: 'shared-errors',
    setup(b) {
      b.onResolve({ filter: /errors\.js$/ }, (args) => {
        const resolved = path.resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
        return resolved === errorsModule ? { path: '../../analyzer/errors.js', external: true } : undefined;
      });
    },
  }],
});
