// Bundles the CLI after `tsc`: dist/src/cli/main.js becomes program.js with the ~100 modules it imports, in main.js and
// a dozen shared chunks in dist/src/cli/chunks/ (esbuild's code splitting: what one command alone needs, such as doctor
// or the eBPF probe, is a chunk of its own, loaded when used). Node 20 has no compile cache and resolves, reads and
// links every ES module on its own: measured, the bundle starts the CLI ~30 ms of CPU sooner (--help: 96 -> 66 ms).
// The library (dist/src/trace.js) stays unbundled. The input is tsc's output, never this script's: running it twice
// gives the same files.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const cli = new URL('../dist/src/cli/', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync(`${cli}chunks`, { recursive: true, force: true }); // a previous bundle's chunks
await build({
  entryPoints: [
    { in: `${cli}program.js`, out: 'main' },
    // doctor's round trip spawns ./trigger-child.js beside its own module, which the bundle moves into chunks/
    { in: `${cli}../doctor/trigger-child.js`, out: 'chunks/trigger-child' },
  ],
  outdir: cli,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // commander's files load on every start, so they are bundled; the others load only when used (koffi is native)
  external: Object.keys(pkg.dependencies).filter((name) => name !== 'commander'),
  // commander is CommonJS: its require() of Node's modules needs a require in the bundle's scope
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
