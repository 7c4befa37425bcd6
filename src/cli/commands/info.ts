// `audiotag info <file...>`: what is in an audio file (duration, sample rate, channels, frames, codec), as
// JSON, one line per file, without decoding it. A file that cannot be read is reported on stderr with its
// reason and the others are still read; the exit code is then 1, after a summary line.
import type { Command } from 'commander';
import { audioInfo } from '../../audio/io.js';
import { truncationMessage } from '../../audio/wav.js';
import { warn } from '../../core/log.js';
import { forEachInput } from '../batch.js';

export function register(program: Command): void {
  program
    .command('info')
    .description(
      'print duration (s), sample rate, channels, frames and codec of audio files as JSON, one line each',
    )
    .argument('<files...>', 'audio files: WAV is read natively, anything else through ffprobe')
    .action(async (files: string[]) => {
      await forEachInput(files, 'file', async (file) => {
        const info = await audioInfo(file);
        if (info.declaredFrames !== undefined)
          warn(`${file}: ${truncationMessage({ ...info, declaredFrames: info.declaredFrames })}`);
        process.stdout.write(`${JSON.stringify({ file, ...info })}\n`);
      });
    });
}
