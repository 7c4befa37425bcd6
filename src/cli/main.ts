// The `audiotag` command line. Each sub-command lives in src/cli/commands/<name>.ts and
// exports `register(program)`; this file only wires them together and turns errors into messages.
//
// Exit codes, for every command: 0 success; 1 the work failed (a file that does not decode, a run that
// diverged, a batch with bad inputs); 2 a usage error (unknown flag, missing option, bad value, bad config).
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { commands } from './commands/index.js';
import { errorMessage, UsageError, usageFromOptionError } from './errors.js';
import { installCliLogger } from './progress.js';

export function buildProgram(): Command {
  const program = new Command('audiotag')
    .description('Train, evaluate and serve audio tagging models')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  installCliLogger();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command may report failure without throwing (for example after printing every problem it found).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // --help and --version arrive here with exit code 0; commander's own errors (unknown option,
      // missing argument or option, invalid value) are usage errors: 2.
      return thrown.exitCode === 0 ? 0 : 2;
    }
    // A library's option error names the API option: shown as the flag, as a usage error.
    const err = usageFromOptionError(thrown);
    const message = errorMessage(err);
    process.stderr.write(`audiotag: ${message}\n`);
    if (process.env.AUDIOTAG_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

const isEntry = process.argv[1] !== undefined && /[\\/](main\.(ts|js)|audiotag)$/.test(process.argv[1]);
if (isEntry || process.env.AUDIOTAG_CLI === '1') {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
