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
  function autocannon(o: Options): Promise<Result>;
  export default autocannon;
}
