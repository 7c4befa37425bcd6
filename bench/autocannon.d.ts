// The part of autocannon's API bench/serve-load.ts uses (the package ships no types).
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    connections?: number;
    amount?: number;
    duration?: number;
    timeout?: number;
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    requests: { total: number; average: number };
    latency: { p50: number; p99: number; max: number; average: number };
  }
  /** The run: a promise of the result that also emits 'response' after each reply. */
  interface Job extends Promise<Result> {
    on(event: 'response', listener: (...args: unknown[]) => void): this;
  }
  function autocannon(o: Options): Job;
  export default autocannon;
}
