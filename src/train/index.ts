// src/train: schedules, EMA, losses by name, the trainer, the k-fold driver, fine-tuning and evaluation.
export * from './config.js';
export * from './data.js';
export * from './ema.js';
export * from './evaluate.js';
export * from './finetune.js';
export * from './loss.js';
export * from './plan.js';
export * from './predict.js';
export * from './progress.js';
export * from './run.js';
export * from './schedules.js';
export * from './trainer.js';
