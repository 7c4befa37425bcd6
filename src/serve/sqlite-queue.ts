// The JobQueue on SQLite (better-sqlite3, WAL): claim is one IMMEDIATE transaction, so two workers (or two
// processes on the same file) never take the same job; a worker's lease is renewed by progress(); running
// jobs whose lease expired are re-queued by requeueExpired() (the server calls it at start and every few
// seconds), and complete/fail only succeed for the worker holding the lease, so a result is written once.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { JobQueue, JobRecord, JobState } from './queue.js';

interface Row {
  id: string;
  state: JobState;
  payload: string;
  progress: number;
  result: string | null;
  error: string | null;
  attempts: number;
  created_at: number;
  updated_at: number;
  worker: string | null;
  lease_until: number | null;
}

function toRecord<P, R>(r: Row): JobRecord<P, R> {
  return {
    id: r.id,
    state: r.state,
    payload: JSON.parse(r.payload) as P,
    progress: r.progress,
    result: r.result === null ? null : (JSON.parse(r.result) as R),
    error: r.error,
    attempts: r.attempts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    worker: r.worker,
    leaseUntil: r.lease_until,
  };
}

export class SqliteJobQueue<P = unknown, R = unknown> implements JobQueue<P, R> {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY, state TEXT NOT NULL, payload TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0,
      result TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL, worker TEXT, lease_until INTEGER);
      CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created_at);`);
  }

  async add(payload: P): Promise<{ id: string }> {
    const id = randomUUID();
    const now = Date.now();
    this.db
      .prepare('INSERT INTO jobs (id, state, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, 'queued', JSON.stringify(payload), now, now);
    return { id };
  }

  async claim(worker: string, leaseMs: number): Promise<JobRecord<P, R> | null> {
    const take = this.db.transaction(() => {
      const row = this.db
        .prepare("SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_at, rowid LIMIT 1")
        .get() as { id: string } | undefined;
      if (!row) return null;
      const now = Date.now();
      this.db
        .prepare(
          "UPDATE jobs SET state = 'running', worker = ?, lease_until = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'queued'",
        )
        .run(worker, now + leaseMs, now, row.id);
      return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(row.id) as Row;
    });
    const r = take.immediate();
    return r ? toRecord<P, R>(r) : null;
  }

  private held(sql: string, id: string, worker: string, ...values: unknown[]): boolean {
    const r = this.db
      .prepare(`${sql} WHERE id = ? AND worker = ? AND state = 'running'`)
      .run(...values, id, worker);
    return r.changes === 1;
  }

  async progress(id: string, worker: string, progress: number, leaseMs = 60_000): Promise<boolean> {
    const now = Date.now();
    return this.held(
      'UPDATE jobs SET progress = ?, lease_until = ?, updated_at = ?',
      id,
      worker,
      Math.min(1, Math.max(0, progress)),
      now + leaseMs,
      now,
    );
  }

  async complete(id: string, worker: string, result: R): Promise<boolean> {
    return this.held(
      "UPDATE jobs SET state = 'done', progress = 1, result = ?, lease_until = NULL, updated_at = ?",
      id,
      worker,
      JSON.stringify(result),
      Date.now(),
    );
  }

  async fail(id: string, worker: string, error: string): Promise<boolean> {
    return this.held(
      "UPDATE jobs SET state = 'failed', error = ?, lease_until = NULL, updated_at = ?",
      id,
      worker,
      error,
      Date.now(),
    );
  }

  async get(id: string): Promise<JobRecord<P, R> | null> {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord<P, R>(r) : null;
  }

  async requeueExpired(now = Date.now()): Promise<number> {
    return this.db
      .prepare(
        "UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, updated_at = ? WHERE state = 'running' AND lease_until < ?",
      )
      .run(now, now).changes;
  }

  async counts(): Promise<Record<JobState, number>> {
    const out: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: JobState;
      n: number;
    }[];
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
