// Prometheus text exposition for the server: request counts by route and status, request latency and
// model inference time as histograms, the in-process queue depth and the job counts by state.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

class Histogram {
  readonly counts = new Array<number>(BUCKETS.length).fill(0);
  sum = 0;
  n = 0;
  observe(s: number): void {
    this.sum += s;
    this.n++;
    for (let i = 0; i < BUCKETS.length; i++) if (s <= BUCKETS[i]!) this.counts[i]!++;
  }
  lines(name: string, labels: string): string[] {
    const l = labels ? `${labels},` : '';
    return [
      ...BUCKETS.map((b, i) => `${name}_bucket{${l}le="${b}"} ${this.counts[i]}`),
      `${name}_bucket{${l}le="+Inf"} ${this.n}`,
      `${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`,
      `${name}_count${labels ? `{${labels}}` : ''} ${this.n}`,
    ];
  }
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly infer = new Histogram();

  request(route: string, status: number, seconds: number): void {
    const key = `route="${esc(route)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const lk = `route="${esc(route)}"`;
    let h = this.latency.get(lk);
    if (!h) {
      h = new Histogram();
      this.latency.set(lk, h);
    }
    h.observe(seconds);
  }

  inference(seconds: number): void {
    this.infer.observe(seconds);
  }

  text(g: { active: number; waiting: number; jobs: Record<string, number> | null }): string {
    const out = [
      '# HELP audiotag_http_requests_total HTTP requests by route and status code.',
      '# TYPE audiotag_http_requests_total counter',
      ...[...this.requests].map(([k, v]) => `audiotag_http_requests_total{${k}} ${v}`),
      '# HELP audiotag_http_request_duration_seconds HTTP request latency.',
      '# TYPE audiotag_http_request_duration_seconds histogram',
      ...[...this.latency].flatMap(([k, h]) => h.lines('audiotag_http_request_duration_seconds', k)),
      '# HELP audiotag_inference_seconds Model time per tagged recording (decode, features, model).',
      '# TYPE audiotag_inference_seconds histogram',
      ...this.infer.lines('audiotag_inference_seconds', ''),
      '# HELP audiotag_requests_in_flight Tag requests being scored now.',
      '# TYPE audiotag_requests_in_flight gauge',
      `audiotag_requests_in_flight ${g.active}`,
      '# HELP audiotag_queue_depth Tag requests waiting for a free slot.',
      '# TYPE audiotag_queue_depth gauge',
      `audiotag_queue_depth ${g.waiting}`,
    ];
    if (g.jobs) {
      out.push('# HELP audiotag_jobs Jobs in the job store by state.', '# TYPE audiotag_jobs gauge');
      for (const [s, n] of Object.entries(g.jobs)) out.push(`audiotag_jobs{state="${s}"} ${n}`);
    }
    return `${out.join('\n')}\n`;
  }
}
