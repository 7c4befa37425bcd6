// JobQueue: the one interface every job backend implements (SQLite here; a distributed one may follow).
//
//   const q = openSqliteQueue('jobs.db');
//   const { id } = q.add({ input: ..., options: ... });       // queued
//   const job = q.claim('worker-1', 60_000);                  // atomically queued -> running, with a lease
//   q.progress(job.id, 'worker-1', 0.5);                      // also renews the lease
//   q.complete(job.id, 'worker-1', result);                   // or q.fail(job.id, 'worker-1', 'why')
//
// Guarantees a backend must keep: a job is handed to one worker at a time (claim is atomic); a running job
// whose lease expired goes back to 'queued' (requeueExpired) so a crash never loses it; complete/fail from
// a worker that no longer holds the lease are refused (returns false), so a job's result is written once.

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface JobRecord<P = unknown, R = unknown> {
  id: string;
  state: JobState;
  /** What the worker needs to run the job (JSON-serialisable). */
  payload: P;
  /** 0..1 */
  progress: number;
  result: R | null;
  error: string | null;
  /** How many times the job was claimed. */
  attempts: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  /** Worker holding the lease while running. */
  worker: string | null;
  leaseUntil: number | null;
}

export interface JobQueue<P = unknown, R = unknown> {
  /** Stores a new queued job; returns its id. */
  add(payload: P): Promise<{ id: string }>;
  /** Atomically takes the oldest queued job for `worker` with a lease of `leaseMs`; null when none. */
  claim(worker: string, leaseMs: number): Promise<JobRecord<P, R> | null>;
  /** Records progress (0..1) and renews the lease; false when `worker` no longer holds the job. */
  progress(id: string, worker: string, progress: number, leaseMs?: number): Promise<boolean>;
  /** Stores the result (state 'done'); false when `worker` no longer holds the job. */
  complete(id: string, worker: string, result: R): Promise<boolean>;
  /** Marks the job failed with a message; false when `worker` no longer holds the job. */
  fail(id: string, worker: string, error: string): Promise<boolean>;
  /** The job, or null when there is no job with this id. */
  get(id: string): Promise<JobRecord<P, R> | null>;
  /** Running jobs whose lease ended before `now` go back to 'queued'; returns how many. */
  requeueExpired(now?: number): Promise<number>;
  /** Jobs per state (for /metrics). */
  counts(): Promise<Record<JobState, number>>;
  close(): Promise<void>;
}
