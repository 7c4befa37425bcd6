// The part of better-sqlite3's API the job queue uses (the package ships no types; @types is not installed).
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
    }
    interface Transaction<F extends (...a: never[]) => unknown> {
      (...a: Parameters<F>): ReturnType<F>;
      immediate(...a: Parameters<F>): ReturnType<F>;
    }
    interface Database {
      prepare(sql: string): Statement;
      exec(sql: string): this;
      pragma(sql: string): unknown;
      transaction<F extends (...a: never[]) => unknown>(fn: F): Transaction<F>;
      close(): this;
    }
  }
  const Database: new (path: string, options?: Record<string, unknown>) => Database.Database;
  export default Database;
}
