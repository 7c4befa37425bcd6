// One set of conventions for every command (docs/cli.md, "Conventions"): usage errors exit 2 and work
// failures 1; config errors list every problem as `dotted.key: expected …, got …`; commands with several
// inputs go on past a bad one; progress is a bar on a terminal and plain lines otherwise; library code
// never writes to stderr; a training run that fails before its first epoch does not block the rerun.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import YAML from 'yaml';
import { z } from 'zod';
import { flagFor, UsageError, usageFromOptionError } from '../../src/cli/errors.js';
import { buildProgram } from '../../src/cli/main.js';
import { createProgress } from '../../src/cli/progress.js';
import { formatSchemaIssues, OptionError } from '../../src/core/errors.js';
import { ROOT, runMain, spawnCli } from './helpers.js';

const FSDD = join(ROOT, '..', 'shared', 'data', 'fsdd');
const WAV = join(FSDD, 'audio', '0_george_0.wav');
const tmp = mkdtempSync(join(tmpdir(), 'audiotag-conventions-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Every runnable command as its word path: ['info'], ['dataset', 'validate'], ['bench', 'train']… */
function leafCommands(cmd: Command, path: string[] = []): string[][] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [path];
  return subs.flatMap((c) => leafCommands(c, [...path, c.name()]));
}

describe('exit codes', () => {
  test('every command exits 2 on an unknown flag', async () => {
    const leaves = leafCommands(buildProgram());
    assert.ok(leaves.length >= 12, `only ${leaves.length} commands`);
    for (const path of leaves) {
      const r = await runMain(...path, '--no-such-flag-anywhere', 'x');
      assert.equal(r.code, 2, `${path.join(' ')}: exit ${r.code}\n${r.err}`);
      // (a missing required option may be reported first: also a usage error)
      assert.match(r.err, /no-such-flag-anywhere|required option/, path.join(' '));
    }
  });

  test('a missing required option, a missing argument and a bad value exit 2', async () => {
    for (const args of [
      ['evaluate', '--manifest', 'x.csv'],
      ['features'],
      ['score', '--truth', 'a.csv'],
      ['features', WAV, '--n-mels', 'lots'],
      ['bench', 'train', '--batch', '0'],
      ['dataset', 'validate', FSDD, '--jobs', '-1'],
    ]) {
      const r = await runMain(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.err}`);
    }
  });

  test('a failure of the work itself exits 1', async () => {
    const r = await runMain('info', join(tmp, 'absent.wav'));
    assert.equal(r.code, 1);
    assert.equal(r.err, `audiotag: ${join(tmp, 'absent.wav')}: file not found\n`);
  });
});

describe('option errors', () => {
  test('a library OptionError names the option; the CLI shows the flag, as a usage error', () => {
    const e = new OptionError('window', 'must be a number of seconds > 0, got -1');
    assert.equal(e.message, 'window: must be a number of seconds > 0, got -1');
    const u = usageFromOptionError(e);
    assert.ok(u instanceof UsageError);
    assert.equal(u.message, '--window: must be a number of seconds > 0, got -1');
    assert.equal(flagFor('outDir'), '--out-dir');
    assert.equal(flagFor('formats'), '--format');
    assert.equal(flagFor('folds', { folds: 'fold' }), '--fold');
    const other = new Error('x');
    assert.equal(usageFromOptionError(other), other);
  });

  test('library code outside src/cli never names a command-line flag in a message', () => {
    const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
    const offenders: string[] = [];
    // The first string of every `throw new X(` / `…Error(` call, across lines, comments left out.
    const THROWN_FLAG = /(?:throw new \w+|Error)\(\s*['"`][^'"`]*?(?<![\w-])--[a-z]/g;
    const walk = (dir: string) => {
      for (const f of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, f.name);
        if (f.isDirectory()) {
          if (p !== join(SRC, 'cli')) walk(p);
        } else if (f.name.endsWith('.ts')) {
          const code = readFileSync(p, 'utf8')
            .split('\n')
            .map((line) => line.replace(/^\s*(\/\/|\/?\*).*$/, ''))
            .join('\n');
          for (const m of code.matchAll(THROWN_FLAG))
            offenders.push(`${p}: ${code.slice(m.index, m.index + 80).replace(/\s+/g, ' ')}`);
        }
      }
    };
    walk(SRC);
    assert.deepEqual(offenders, []);
  });
});

describe('config errors', () => {
  test('every problem at once, dotted keys, valid keys listed, no zod wording', () => {
    const schema = z.strictObject({
      train: z.strictObject({ epochs: z.number().int().positive(), lr: z.number().max(1) }),
      name: z.enum(['a', 'b']),
      tags: z.array(z.string()).min(1),
    });
    const input = { train: { epochs: 'many', lr: 3, epoch: 1 }, name: 'c', tags: [] };
    const r = schema.safeParse(input);
    assert.equal(r.success, false);
    const lines = formatSchemaIssues(r.error!.issues, input, { schema });
    assert.deepEqual(lines.toSorted(), [
      'name: expected one of "a", "b", got "c"',
      'tags: expected a list of at least 1 item(s), got a list []',
      'train.epoch: unknown key (expected one of epochs, lr)',
      'train.epochs: expected a number, got "many"',
      'train.lr: expected a number ≤ 1, got 3',
    ]);
    for (const l of lines) assert.doesNotMatch(l, /Too (small|big)|Invalid|received/);
  });

  test('train: a bad value from a dotted flag names the flag, one from the file names the file', () => {
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(
      cfg,
      YAML.stringify({
        data: { manifest: join(FSDD, 'meta.csv') },
        model: { name: 'small-cnn' },
        train: { epochz: 3 },
      }),
    );
    const r = spawnCli(['train', '--config', cfg, '--out', join(tmp, 'never'), '--loader.batchSize', '0']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--loader\.batchSize: expected a number > 0, got 0/);
    assert.match(r.stderr, /bad\.yaml: train\.epochz: unknown key \(expected one of epochs, /);
    assert.equal(existsSync(join(tmp, 'never')), false, 'nothing written');
  });
});

describe('several inputs', () => {
  test('features: YAML --config, bad clips reported, the rest computed, exit 1 with a summary', () => {
    const cfg = join(tmp, 'feat.yaml');
    writeFileSync(cfg, 'nFft: 512\nnMels: 40\n');
    const other = join(FSDD, 'audio', '1_george_0.wav');
    const r = spawnCli(['features', WAV, join(tmp, 'nope.wav'), other, '--config', cfg]);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /0_george_0\.wav: mel \[40, \d+\]/);
    assert.match(lines[1]!, /1_george_0\.wav: mel \[40, \d+\]/);
    assert.match(
      r.stderr,
      /nope\.wav: file not found\n.*1 of 3 clip\(s\) failed, reasons above: .*nope\.wav/s,
    );
  });

  test('features warns when a mel filter is empty, as librosa does', () => {
    const r = spawnCli(['features', WAV, '--n-fft', '256', '--n-mels', '128']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: mel filterbank: \d+ of 128 filters are empty/);
    const ok = spawnCli(['features', WAV, '--n-fft', '2048', '--n-mels', '64']);
    assert.equal(ok.stderr, '');
    // From worker threads too (their warnings reach the CLI's logger), once however many workers see it.
    const clips = join(tmp, 'clips');
    mkdirSync(join(clips, 'a'), { recursive: true });
    for (const n of ['0_george_0', '1_george_0', '2_george_0', '3_george_0'])
      copyFileSync(join(FSDD, 'audio', `${n}.wav`), join(clips, 'a', `${n}.wav`));
    const batch = spawnCli([
      'features',
      clips,
      '--out-dir',
      join(tmp, 'npy'),
      '--threads',
      '2',
      '--n-fft',
      '256',
      '--n-mels',
      '128',
    ]);
    assert.equal(batch.status, 0, batch.stderr);
    assert.equal(
      batch.stderr.match(/warning: mel filterbank: \d+ of 128 filters are empty/g)?.length,
      1,
      batch.stderr,
    );
  });
});

describe('progress and logging', () => {
  test('without a terminal: a plain line per interval with rate and ETA', () => {
    let text = '';
    const stream = {
      isTTY: false,
      write: (s: string) => {
        text += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    const before = process.env.AUDIOTAG_PROGRESS_EVERY;
    process.env.AUDIOTAG_PROGRESS_EVERY = '0';
    try {
      const p = createProgress('checking', 4, { unit: 'clips', stream });
      for (let i = 1; i <= 4; i++) p.update(i);
      p.stop();
    } finally {
      if (before === undefined) delete process.env.AUDIOTAG_PROGRESS_EVERY;
      else process.env.AUDIOTAG_PROGRESS_EVERY = before;
    }
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 4, 'one line per update, no repeat of the last at stop()');
    assert.match(lines[1]!, /^checking: 2\/4 clips \(50 %\), [\d.]+ clips\/s(, ETA \d+ s)?$/);
    assert.match(lines[3]!, /^checking: 4\/4 clips \(100 %\)/);
  });

  test('library code writes nothing to stderr or the console (src/cli owns the output)', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) {
          if (p !== join(ROOT, 'src', 'cli')) walk(p);
        } else if (p.endsWith('.ts')) {
          readFileSync(p, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/process\.stderr|console\.(log|warn|error|info)/.test(line) && !/^\s*(\/\/|\*)/.test(line))
                offenders.push(`${p.slice(ROOT.length)}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk(join(ROOT, 'src'));
    assert.deepEqual(offenders, []);
  });
});

describe('train never poisons --out', { skip: !existsSync(join(FSDD, 'meta.csv')) && 'no FSDD' }, () => {
  const config = {
    seed: 1,
    data: {
      manifest: join(FSDD, 'meta.csv'),
      format: 'csv',
      csv: { pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' },
      filter: { label: [0, 1], speaker: ['george'] },
    },
    folds: { strategy: 'split' },
    features: { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 32, duration: 1, normalize: 'clip' },
    model: { name: 'small-cnn', config: { channels: [8, 16], convsPerBlock: 1 } },
    loader: { batchSize: 16, workers: 0, cacheDir: join(tmp, 'cache') },
    train: { epochs: 1, optimizer: { name: 'adam', lr: 0.01 }, threads: 1 },
  };

  test('a run that fails before its first epoch leaves nothing that blocks the corrected rerun', () => {
    const cfg = join(tmp, 'tiny.yaml');
    const out = join(tmp, 'run');
    writeFileSync(cfg, YAML.stringify(config));
    const train = (...more: string[]) =>
      spawnCli(['train', '--config', cfg, '--out', out, '--quiet', ...more]);
    const failed = train('--init.from', join(tmp, 'no-ckpt'));
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stderr, /no-ckpt\/config\.json: no such file or folder/);
    const fixed = train();
    assert.equal(fixed.status, 0, fixed.stderr);
    assert.ok(existsSync(join(out, 'fold0', 'result.json')));
    // A run that trained something is protected: another config needs --force (a usage error otherwise).
    const other = train('--train.optimizer.lr', '0.02');
    assert.equal(other.status, 2, other.stderr);
    assert.match(other.stderr, /already holds a run with a different config .*use another --out, or --force/);
  });
});
