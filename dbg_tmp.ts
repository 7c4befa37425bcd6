import * as E from './src/engine/index.js';
import { createModel } from './src/models/index.js';
const cases: [string, number[]][] = [['vgg16-bn',[2,1,32,32]],['resnet18',[2,1,32,32]],['resnet34',[2,1,32,32]],['conv1d-raw',[2,1,2000]],['mfcc-cnn',[2,1,40,44]],['crnn',[2,1,32,24]],['mobilenet-v2',[2,1,32,32]],['efficientnet-b0',[2,1,32,32]],['spec-transformer',[2,1,64,128]],['sed',[2,1,64,32]]];
for (const [n, shape] of cases) {
  const t0 = performance.now();
  const m = createModel(n);
  const t1 = performance.now();
  m.eval();
  E.tidy(() => E.noGrad(() => m.call(E.randn(shape))));
  const t2 = performance.now();
  m.train();
  E.tidy(() => { const o = m.call(E.randn(shape)); o.clipwise.sum().backward(); });
  const t3 = performance.now();
  console.log(n.padEnd(18), 'build', (t1-t0).toFixed(0), 'eval', (t2-t1).toFixed(0), 'train+bwd', (t3-t2).toFixed(0));
  m.dispose();
}
