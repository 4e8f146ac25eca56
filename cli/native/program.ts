/**
 * The native commands of `jetjobs` (docs/cli.md), registered beside the Alluxio `job` commands on
 * the one program (cli/main.ts): jobs, live events and logs, the service, users, login and
 * contexts, and shell completion generated from the finished command tree.
 */
import { Argument, type Command } from 'commander';
import { NATIVE_EXIT } from '../exitCodes.ts';
import { registerAdminCommands } from './adminCommands.ts';
import { completionScript, SHELLS, type Shell } from './completion.ts';
import { registerJobCommands } from './jobCommands.ts';
import { registerLoginCommands } from './loginCommands.ts';
import { registerLogs } from './logs.ts';
import type { NativeContext } from './nativeContext.ts';
import { registerWatch } from './watch.ts';

export function registerNativeCommands(program: Command, cx: NativeContext): void {
  registerJobCommands(program, cx);
  registerLogs(program, cx);
  registerWatch(program, cx);
  registerAdminCommands(program, cx);
  registerLoginCommands(program, cx);
  program.command('completion').exitOverride()
    .description('print the shell completion script: source <(jetjobs completion bash)')
    .addArgument(new Argument('<shell>').choices(SHELLS))
    .action((shell: Shell) => {
      cx.io.stdout.write(completionScript(program, shell));
      cx.setExit(NATIVE_EXIT.OK);
    });
}
