import { guardSignals } from '../pipeline/cleanup.js';
import { fail } from './fail.js';
import { quickTraceFlags, traceOptionsOf } from './trace-flags.js';
import { traceCommand } from './trace-command.js';

guardSignals(); // from the first line on: a signal during start-up must not kill us with kernel state half made
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

// `watchpost [trace flags]`, the command line of nearly every start, is read without commander (~10 ms of start-up);
// anything else, and any mistake in it, goes to the commander program, which reads it and answers as it always did
const quick = quickTraceFlags(process.argv.slice(2));
if (quick) await traceCommand(traceOptionsOf(quick)).catch(fail);
else (await import('./program.js')).runProgram(process.argv);
