#!/usr/bin/env node
// The CLI's entry point. `npm ci` / `npm run build` replace this file's build output by a bundle of program.js (scripts/bundle.mjs),
// which starts ~30 ms of CPU sooner than the ~100 modules it holds. A plain `tsc` build leaves this import: the same program, slower to start.
import './program.js';
