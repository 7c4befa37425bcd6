// `audiotag info <file...>`: what is in an audio file (duration, sample rate, channels, frames, codec), as
// JSON, one line per file, without decoding it.
import type { Command } from 'commander';
import { audioInfo } from '../../audio/io.js';

export function register(program: Command): void {
  program
    .command('info')
    .description(
      'print duration (s), sample rate, channels, frames and codec of audio files as JSON, one line each',
    )
    .argument('<files...>', 'audio files: WAV is read natively, anything else through ffprobe')
    .action(async (files: string[]) => {
      for (const file of files) {
        const info = await audioInfo(file);
        process.stdout.write(`${JSON.stringify({ file, ...info })}\n`);
      }
    });
}
