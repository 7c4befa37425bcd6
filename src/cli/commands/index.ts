// Every sub-command's `register`. Add one import and one entry per command file.
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
