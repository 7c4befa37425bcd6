// src/nn: PyTorch-like modules over the engine, initialisers, losses and safetensors checkpoints.

export * from './activation.js';
export * from './attention.js';
export * from './blocks.js';
export * from './checkpoint.js';
export * from './container.js';
export * from './conv.js';
export * from './dropout.js';
export * as init from './init.js';
export * from './linear.js';
export * from './losses.js';
export * from './module.js';
export * from './norm.js';
export * from './pooling.js';
export * from './rnn.js';
export * from './safetensors.js';
export * from './safetensors-format.js';
