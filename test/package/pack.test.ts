// The published package as a user gets it: `npm pack`, install the tarball into a fresh project, import it
// by name and run a small real pipeline (decode an FSDD clip, log-mel, a model forward pass); the browser-safe
// sub-paths load without the native addon; `tsc` on a consumer file resolves the types.
// Needs dist/ (built by `make setup`; the test builds it when missing) and the npm registry for the
// dependencies (ONNXRUNTIME_NODE_INSTALL=skip keeps onnxruntime-node from downloading its binaries).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WAV = join(ROOT, '..', 'shared', 'data', 'fsdd', 'audio', '3_theo_7.wav');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const tmp = mkdtempSync(join(tmpdir(), 'audiotag-pack-'));
const app = join(tmp, 'app');

function node(script: string, env: Record<string, string> = {}) {
  writeFileSync(join(app, 'script.mjs'), script);
  return spawnSync(process.execPath, ['script.mjs'], {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

describe('the packed package', { timeout: 240_000 }, () => {
  before(() => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'index.js')))
      execFileSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
    execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: ROOT, stdio: 'ignore' });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack wrote no tarball');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"app","type":"module","private":true}\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(tmp, tgz)], {
      cwd: app,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      stdio: 'ignore',
      timeout: 180_000,
    });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('import by name runs decode → log-mel → model forward', {
    skip: !existsSync(WAV) && 'no FSDD',
  }, () => {
    const r = node(`
      import * as at from 'audiotag';
      const audio = await at.loadAudio(${JSON.stringify(WAV)}, { mono: true });
      const mel = at.computeFeatures(audio.channels[0], audio.sampleRate, { sampleRate: 8000, nFft: 256, nMels: 40 });
      at.manualSeed(0);
      const model = at.createModel('small-cnn', { numClasses: 10, channels: [8, 16], convsPerBlock: 1 });
      model.eval();
      const [m, t] = mel.shape;
      const logits = at.noGrad(() => model.call(at.tensor(mel.data, [1, 1, m, t])).clipwise);
      console.log(JSON.stringify({
        exports: Object.keys(at).length, sr: audio.sampleRate, frames: audio.channels[0].length,
        mel: mel.shape, logits: logits.shape, finite: logits.toFloat32Array().every(Number.isFinite),
        namespaces: ['audio', 'features', 'engine', 'nn', 'models', 'train', 'data', 'metrics', 'augment']
          .filter((k) => typeof at[k] === 'object'),
      }));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(out.exports > 100, `only ${out.exports} exports`);
    assert.equal(out.sr, 8000);
    assert.equal(out.frames, 1945);
    assert.deepEqual(out.mel, [40, Math.floor(1945 / 64) + 1]);
    assert.deepEqual(out.logits, [1, 10]);
    assert.equal(out.finite, true);
    assert.equal(out.namespaces.length, 9);
  });

  test('audiotag/audio and audiotag/features load without the native addon; the root needs it', () => {
    const env = { AUDIOTAG_NATIVE: join(tmp, 'no-such-addon.node') };
    const sub = node(
      `import { decodeWav, encodeWav } from 'audiotag/audio';
       import { melSpectrogram } from 'audiotag/features';
       const x = new Float32Array(4000).map((_, i) => Math.sin(i / 3));
       const a = decodeWav(encodeWav({ sampleRate: 8000, channels: [x] }));
       console.log(melSpectrogram(a.channels[0], { sampleRate: 8000, nFft: 256, nMels: 16 }).shape.join('x'));`,
      env,
    );
    assert.equal(sub.status, 0, sub.stderr);
    assert.equal(sub.stdout.trim(), '16x63');
    const root = node(`await import('audiotag');`, env);
    assert.notEqual(root.status, 0);
    assert.match(root.stderr, /native addon .*no-such-addon\.node is missing/);
  });

  test('the installed bin runs the compiled CLI', { skip: !existsSync(WAV) && 'no FSDD' }, () => {
    const r = spawnSync(join(app, 'node_modules', '.bin', 'audiotag'), ['info', WAV], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).frames, 1945);
    const bad = spawnSync(join(app, 'node_modules', '.bin', 'audiotag'), ['info', '--bogus'], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
  });

  test('tsc resolves the types of a consumer file', () => {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
    };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    writeFileSync(
      join(app, 'good.ts'),
      `import { type FeatureConfig, resolveFeatureConfig, type Tensor } from 'audiotag';
       import { computeFeatures } from 'audiotag/features';
       import { loadAudio } from 'audiotag/audio';
       const c: FeatureConfig = resolveFeatureConfig('fat2019');
       export async function mel(path: string): Promise<number[]> {
         const a = await loadAudio(path, { mono: true });
         return computeFeatures(a.channels[0]!, a.sampleRate, c).shape;
       }
       export type T = Tensor;\n`,
    );
    const good = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: app, encoding: 'utf8' });
    assert.equal(good.status, 0, good.stdout);
    // A type error in the consumer is caught: the types are real, not `any`.
    writeFileSync(
      join(app, 'bad.ts'),
      `import { resolveFeatureConfig } from 'audiotag';\nexport const n: string = resolveFeatureConfig('fat2019').nMels;\n`,
    );
    const bad = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: app, encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /bad\.ts.*TS2322: Type 'number' is not assignable to type 'string'/);
  });
});
