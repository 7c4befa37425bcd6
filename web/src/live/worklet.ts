// The live page's AudioWorklet: a ring buffer of the last `seconds` of microphone audio at the
// AudioContext's rate (the model's rate whenever the browser lets the context run at it; see index.ts).
// Every `hopSeconds` it sends the whole window, oldest sample first, to the inference worker through the
// MessagePort it is given ({ port } on its own port). No imports: it runs in AudioWorkletGlobalScope.

interface RingOptions {
  /** Window length in seconds (the model's clip or window duration). */
  seconds: number;
  /** Seconds between windows sent to the worker. */
  hopSeconds: number;
}

/** The message the worker receives for each window. */
export interface WindowMessage {
  samples: Float32Array;
  rate: number;
  /** Samples written since start (at `rate`), at the end of the window. */
  written: number;
  /** How many samples of the window are real audio (less than its length until the ring has filled). */
  filled: number;
}

// AudioWorkletGlobalScope's names, which lib.dom does not declare.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: { processorOptions?: unknown });
}
declare function registerProcessor(name: string, ctor: new (options: never) => AudioWorkletProcessor): void;

class RingProcessor extends AudioWorkletProcessor {
  private readonly ring: Float32Array;
  private readonly hop: number;
  private pos = 0;
  private written = 0;
  private sinceSent = 0;
  private out: MessagePort | null = null;
  private running = true;

  constructor(options: { processorOptions: RingOptions }) {
    super(options);
    const { seconds, hopSeconds } = options.processorOptions;
    this.ring = new Float32Array(Math.max(1, Math.round(seconds * sampleRate)));
    this.hop = Math.max(1, Math.round(hopSeconds * sampleRate));
    this.port.onmessage = (e: MessageEvent<{ port?: MessagePort; stop?: boolean }>) => {
      if (e.data.port) this.out = e.data.port;
      if (e.data.stop) {
        this.running = false;
        this.out?.close();
        this.out = null;
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    if (!this.running) return false;
    if (!channels || channels.length === 0) return true;
    const n = channels[0]!.length;
    const ring = this.ring;
    for (let i = 0; i < n; i++) {
      // Mono: the mean of the input channels.
      let v = 0;
      for (const ch of channels) v += ch[i]!;
      ring[this.pos] = v / channels.length;
      this.pos = this.pos + 1 === ring.length ? 0 : this.pos + 1;
    }
    this.written += n;
    this.sinceSent += n;
    if (this.sinceSent >= this.hop && this.out) {
      this.sinceSent = 0;
      const samples = new Float32Array(ring.length);
      samples.set(ring.subarray(this.pos));
      samples.set(ring.subarray(0, this.pos), ring.length - this.pos);
      const msg: WindowMessage = {
        samples,
        rate: sampleRate,
        written: this.written,
        filled: Math.min(this.written, ring.length),
      };
      this.out.postMessage(msg, [samples.buffer]);
    }
    return true;
  }
}

registerProcessor('audiotag-ring', RingProcessor as unknown as new (options: never) => AudioWorkletProcessor);
