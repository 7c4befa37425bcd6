// Renders the plan's sources with the programs Debian ships: General-MIDI phrases through FluidSynth and
// the FluidR3 soundfont (apt fluidsynth, fluid-soundfont-gm), spoken words through espeak-ng (apt
// espeak-ng). Up to `jobs` subprocesses run at once. Both programs are deterministic: FluidSynth's float
// output is the same sample for sample on every run (only the PEAK chunk's timestamp in its WAV header
// changes, and we re-encode), and espeak-ng's output is byte-identical; MIDI sources are rendered in fixed
// shards, so the audio never depends on how many processes ran.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { toMono } from '../audio/effects.js';
import { resample } from '../audio/resample.js';
import { decodeWav } from '../audio/wav.js';
import { encodeMidi, type MidiEvent } from './midi.js';
import { type DemoPlan, SAMPLE_RATE, SOURCE_SECONDS, type SourceSpec } from './plan.js';

/** The FluidR3 General-MIDI soundfont as Debian's fluid-soundfont-gm installs it. */
export const SOUNDFONT = process.env.AUDIOTAG_SOUNDFONT ?? '/usr/share/sounds/sf2/FluidR3_GM.sf2';
const SOURCE_SAMPLES = SOURCE_SECONDS * SAMPLE_RATE;
/** One source's slot in a shard's MIDI file: 2 s kept, then 1.5 s for the reverb to die away. */
const SLOT_MS = 3500;
const DRUM_CHANNEL = 9;

const INSTALL_HINT =
  'install the apt packages fluidsynth, fluid-soundfont-gm and espeak-ng (`make setup` does)';

function run(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolvePromise(stdout);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') reject(new Error(`demo: ${cmd} not found: ${INSTALL_HINT}`));
      else
        reject(
          new Error(
            `demo: ${cmd} ${args.join(' ')} failed: ${stderr.toString().trim().split('\n').slice(-3).join(' | ') || e.message}`,
          ),
        );
    });
  });
}

/** Versions of the programs and the soundfont, recorded with the data set. */
export async function toolVersions(): Promise<Record<string, string>> {
  if (!existsSync(SOUNDFONT)) throw new Error(`demo: the soundfont ${SOUNDFONT} is missing: ${INSTALL_HINT}`);
  const fluid = (await run('fluidsynth', ['--version'])).toString().split('\n')[0]!.trim();
  const espeak = (await run('espeak-ng', ['--version'])).toString().split('\n')[0]!.trim();
  return { fluidsynth: fluid, espeak: espeak.replace(/\s+Data at:.*$/, ''), soundfont: SOUNDFONT };
}

/** Runs `tasks` with at most `limit` at a time; results in task order. */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return out;
}

function fit(x: Float32Array): Float32Array {
  if (x.length === SOURCE_SAMPLES) return x;
  const y = new Float32Array(SOURCE_SAMPLES);
  y.set(x.subarray(0, SOURCE_SAMPLES));
  return y;
}

/** The MIDI events of a shard: each source in its own slot, with its program and effect sends. */
function shardEvents(shard: readonly Extract<SourceSpec, { kind: 'midi' }>[]): MidiEvent[] {
  const events: MidiEvent[] = [];
  shard.forEach((s, j) => {
    const t = j * SLOT_MS;
    const channel = s.drums ? DRUM_CHANNEL : 0;
    if (!s.drums) events.push({ at: t, type: 'program', channel, program: s.program });
    events.push({ at: t, type: 'control', channel, controller: 91, value: s.reverb });
    events.push({ at: t, type: 'control', channel, controller: 93, value: s.chorus });
    for (const n of s.notes)
      events.push({
        at: t + n.at,
        type: 'note',
        channel,
        key: n.key,
        velocity: n.velocity,
        duration: n.duration,
      });
  });
  return events;
}

async function renderShard(
  shard: Extract<SourceSpec, { kind: 'midi' }>[],
  roomSize: number,
  dir: string,
  index: number,
): Promise<Float32Array[]> {
  const mid = join(dir, `shard${index}.mid`);
  const wav = join(dir, `shard${index}.wav`);
  await writeFile(mid, encodeMidi(shardEvents(shard), SLOT_MS));
  // prettier-ignore
  await run('fluidsynth', [
    '-n',
    '-i',
    '-q',
    '-F',
    wav,
    '-T',
    'wav',
    '-O',
    'float',
    '-r',
    String(SAMPLE_RATE),
    '-g',
    '0.5',
    '-o',
    `synth.reverb.room-size=${roomSize}`,
    '-o',
    'synth.cpu-cores=1',
    SOUNDFONT,
    mid,
  ]);
  const mono = toMono(decodeWav(await readFile(wav), wav));
  await rm(wav);
  const slot = (SLOT_MS / 1000) * SAMPLE_RATE;
  return shard.map((_, j) => fit(mono.slice(j * slot, j * slot + SOURCE_SAMPLES)));
}

async function renderSpeech(s: Extract<SourceSpec, { kind: 'speech' }>): Promise<Float32Array> {
  const bytes = await run('espeak-ng', [
    '-v',
    s.voice,
    '-p',
    String(s.pitch),
    '-s',
    String(s.speed),
    '--stdout',
    s.word,
  ]);
  const audio = decodeWav(bytes, `espeak-ng ${s.voice} "${s.word}"`);
  // 'fast' (70 dB, pass band to 6.4 kHz) is plenty for speech, and 4x cheaper on the main thread.
  return fit(resample(toMono(audio), audio.sampleRate, SAMPLE_RATE, { quality: 'fast' }));
}

/** Every source of the plan at 16 kHz, SOURCE_SECONDS long, indexed by source id. */
export async function renderSources(
  plan: DemoPlan,
  opts: { jobs?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array[]> {
  if (!existsSync(SOUNDFONT)) throw new Error(`demo: the soundfont ${SOUNDFONT} is missing: ${INSTALL_HINT}`);
  const jobs = opts.jobs ?? availableParallelism();
  const out = new Array<Float32Array>(plan.sources.length);
  const midi = plan.sources.filter((s): s is Extract<SourceSpec, { kind: 'midi' }> => s.kind === 'midi');
  const speech = plan.sources.filter(
    (s): s is Extract<SourceSpec, { kind: 'speech' }> => s.kind === 'speech',
  );
  const dir = await mkdtemp(join(tmpdir(), 'audiotag-demo-render-'));
  let done = 0;
  const total = plan.sources.length;
  const tick = (n: number): void => {
    done += n;
    opts.onProgress?.(done, total);
  };
  try {
    const tasks: (() => Promise<void>)[] = [];
    const per = plan.size.midiShard;
    for (let i = 0; i * per < midi.length; i++) {
      const shard = midi.slice(i * per, (i + 1) * per);
      tasks.push(async () => {
        const audio = await renderShard(shard, plan.roomSizes[i]!, dir, i);
        shard.forEach((s, j) => {
          out[s.id] = audio[j]!;
        });
        tick(shard.length);
      });
    }
    for (const s of speech)
      tasks.push(async () => {
        out[s.id] = await renderSpeech(s);
        tick(1);
      });
    await pool(tasks, jobs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
