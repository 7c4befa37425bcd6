// Messages between extract.ts and worker.ts.

export type WorkerTask =
  | { id: number; kind: 'path'; path: string; load?: { offset?: number; duration?: number } }
  | { id: number; kind: 'samples'; samples: Float32Array; sampleRate: number };

export type WorkerReply =
  | { id: number; data: Float32Array; shape: number[]; error?: undefined }
  | { id: number; error: string };
