// Messages between extract.ts / prepare.ts and worker.ts.

export type WorkerTask =
  | {
      id: number;
      kind: 'path';
      path: string;
      load?: { offset?: number; duration?: number };
      /** Write the features here (.npy, atomically) and reply with the shape only. */
      out?: string;
    }
  | { id: number; kind: 'samples'; samples: Float32Array; sampleRate: number };

export type WorkerReply =
  | { id: number; data: Float32Array | null; shape: number[]; error?: undefined }
  | { id: number; error: string };

/** What every worker of a pool is started with. */
export interface WorkerSetup {
  config: unknown;
  /** 'engine': STFT and filterbank in libtorch (one thread per worker); falls back to 'js' if it cannot load. */
  backend: 'engine' | 'js';
}
