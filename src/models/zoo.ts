// The architectures of issue 6 beyond cnn-model-1: each file defines one family; this list is what
// src/models/index.ts registers.

import { conv1dRawDefinition } from './conv1d-raw.js';
import { crnnDefinition } from './crnn.js';
import { efficientnetB0Definition } from './efficientnet.js';
import { mfccCnnDefinition } from './mfcc-cnn.js';
import { mobilenetV2Definition } from './mobilenet.js';
import { resnetDefinitions } from './resnet.js';
import { sedDefinition } from './sed.js';
import { specTransformerDefinition } from './spec-transformer.js';
import type { ModelDefinition } from './types.js';
import { vgg16BnDefinition } from './vgg.js';

export * from './conv1d-raw.js';
export * from './crnn.js';
export * from './efficientnet.js';
export * from './mfcc-cnn.js';
export * from './mobilenet.js';
export * from './resnet.js';
export * from './sed.js';
export * from './spec-transformer.js';
export * from './vgg.js';

const any = (d: unknown) => d as ModelDefinition;

export const zooDefinitions: ModelDefinition[] = [
  any(vgg16BnDefinition),
  ...resnetDefinitions,
  any(conv1dRawDefinition),
  any(mfccCnnDefinition),
  any(crnnDefinition),
  any(mobilenetV2Definition),
  any(efficientnetB0Definition),
  any(specTransformerDefinition),
  any(sedDefinition),
];
