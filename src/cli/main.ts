// The `audiotag` command line. Each sub-command lives in src/cli/commands/<name>.ts and
// exports `register(program)`; this file only wires them together and turns errors into messages.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { commands } from './commands/index.js';
import { UsageError } from './errors.js';

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
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command may report failure without throwing (for example after printing every problem it found).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also arrive here, with exit code 0.
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
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
