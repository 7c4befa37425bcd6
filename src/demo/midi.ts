// A Standard MIDI File (format 0, one track) writer: the few bytes FluidSynth needs to render a list of
// notes. Written here rather than taken from an npm package because it is ~60 lines of a fixed format and
// the demo must not add a dependency for it (the `midi-file` package's writeMidi would do the same).

/** One timed event, in milliseconds from the start of the file. */
export type MidiEvent =
  | { at: number; type: 'program'; channel: number; program: number }
  | { at: number; type: 'control'; channel: number; controller: number; value: number }
  | { at: number; type: 'note'; channel: number; key: number; velocity: number; duration: number };

/** Ticks per quarter note; with the default tempo of 500 000 µs per quarter, one tick is one millisecond. */
const DIVISION = 500;
const TEMPO_US = 500_000;

function checkByte(what: string, v: number, max = 127): void {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new RangeError(`MIDI ${what} must be an integer 0..${max}, got ${v}`);
}

/** MIDI's variable-length quantity: 7 bits per byte, most significant first, high bit = more follows. */
export function varLen(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0x0fffffff)
    throw new RangeError(`MIDI delta time out of range: ${n}`);
  const out = [n & 0x7f];
  for (let v = n >>> 7; v > 0; v >>>= 7) out.unshift((v & 0x7f) | 0x80);
  return out;
}

/**
 * Encodes events as a format-0 Standard MIDI File with 1 ms ticks. Note events become a note-on and a
 * note-off; events at the same time keep their order (note-offs first, so a repeated key re-strikes).
 * `tailMs` of silence is left after the last event, so a renderer keeps the release and reverb tail.
 */
export function encodeMidi(events: readonly MidiEvent[], tailMs = 0): Uint8Array {
  type Raw = { at: number; order: number; seq: number; bytes: number[] };
  const raw: Raw[] = [];
  let seq = 0;
  for (const e of events) {
    checkByte('channel', e.channel, 15);
    const at = Math.round(e.at);
    if (!(at >= 0)) throw new RangeError(`MIDI event time must be >= 0 ms, got ${e.at}`);
    if (e.type === 'program') {
      checkByte('program', e.program);
      raw.push({ at, order: 1, seq: seq++, bytes: [0xc0 | e.channel, e.program] });
    } else if (e.type === 'control') {
      checkByte('controller', e.controller);
      checkByte('controller value', e.value);
      raw.push({ at, order: 1, seq: seq++, bytes: [0xb0 | e.channel, e.controller, e.value] });
    } else {
      checkByte('key', e.key);
      checkByte('velocity', e.velocity);
      if (e.velocity === 0) throw new RangeError('MIDI note velocity must be 1..127 (0 means note-off)');
      const off = Math.round(e.at + e.duration);
      if (!(off > at)) throw new RangeError(`MIDI note duration must be > 0 ms, got ${e.duration}`);
      raw.push({ at, order: 2, seq: seq++, bytes: [0x90 | e.channel, e.key, e.velocity] });
      raw.push({ at: off, order: 0, seq: seq++, bytes: [0x80 | e.channel, e.key, 0] });
    }
  }
  raw.sort((a, b) => a.at - b.at || a.order - b.order || a.seq - b.seq);
  const track: number[] = [
    0x00,
    0xff,
    0x51,
    0x03,
    (TEMPO_US >> 16) & 0xff,
    (TEMPO_US >> 8) & 0xff,
    TEMPO_US & 0xff,
  ];
  let now = 0;
  for (const r of raw) {
    track.push(...varLen(r.at - now), ...r.bytes);
    now = r.at;
  }
  track.push(...varLen(Math.max(0, Math.round(tailMs))), 0xff, 0x2f, 0x00);
  const out = new Uint8Array(14 + 8 + track.length);
  const v = new DataView(out.buffer);
  out.set([0x4d, 0x54, 0x68, 0x64], 0); // MThd
  v.setUint32(4, 6);
  v.setUint16(8, 0); // format 0
  v.setUint16(10, 1); // one track
  v.setUint16(12, DIVISION);
  out.set([0x4d, 0x54, 0x72, 0x6b], 14); // MTrk
  v.setUint32(18, track.length);
  out.set(track, 22);
  return out;
}
