// `audiotag embed`: `audiotag predict --format embeddings` — one row per window of the input of the
// classifier (embeddings.npy) with its file and times (embeddings.csv).
import type { Command } from 'commander';
import { addJobOptions, jobOptions, type PredictFlags, runJob } from './predict.js';

export function register(program: Command): void {
  const cmd = program
    .command('embed')
    .description(
      'write embeddings (the input of the classifier) of every window: embeddings.npy + embeddings.csv',
    )
    .argument(
      '<inputs...>',
      'audio files, folders (recursive), manifests, or a Kaggle sample_submission.csv',
    );
  addJobOptions(cmd).action(async (inputs: string[], flags: PredictFlags) => {
    await runJob(jobOptions(inputs, flags, ['embeddings']), flags);
  });
}
