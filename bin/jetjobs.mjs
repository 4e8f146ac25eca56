#!/usr/bin/env node
// Launcher of the `jetjobs` command line (cli/main.ts): registers tsx in this process, as
// `node --import tsx` does for `npm start`, and runs the TypeScript entry found next to this file,
// so it works from any directory and through npm's bin link (`npx jetjobs`).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import(new URL('../cli/main.ts', import.meta.url).href);
const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  // Ctrl-C while following or watching detaches (exit 130) instead of killing the process mid-write.
  onInterrupt(handler) {
    process.on('SIGINT', handler);
    return () => process.off('SIGINT', handler);
  },
};
const code = await runCli(process.argv.slice(2), process.env, io);
process.exitCode = code;
