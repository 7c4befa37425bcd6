// The SQLite job queue: two queues on one file never hand out the same job, leases expire back to
// 'queued', a worker that lost its lease cannot write a result, and jobs survive reopening the file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteJobQueue } from '../../src/serve/sqlite-queue.js';

const dir = mkdtempSync(join(tmpdir(), 'audiotag-queue-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('claims are exclusive across two connections and results are written once', async () => {
  const db = join(dir, 'a.db');
  const a = new SqliteJobQueue<{ n: number }, { n: number }>(db);
  const b = new SqliteJobQueue<{ n: number }, { n: number }>(db);
  const ids: string[] = [];
  for (let n = 0; n < 20; n++) ids.push((await a.add({ n })).id);
  const taken: string[] = [];
  for (;;) {
    const ja = await a.claim('wa', 60_000);
    const jb = await b.claim('wb', 60_000);
    if (!ja && !jb) break;
    for (const [j, q, w] of [
      [ja, a, 'wa'],
      [jb, b, 'wb'],
    ] as const)
      if (j) {
        taken.push(j.id);
        assert.equal(j.state, 'running');
        assert.equal(await q.complete(j.id, w, { n: j.payload.n * 2 }), true);
        assert.equal(await q.complete(j.id, w, { n: -1 }), false, 'a finished job cannot be completed again');
      }
  }
  assert.deepEqual([...taken].sort(), [...ids].sort());
  assert.equal(new Set(taken).size, 20);
  const j = await b.get(ids[3]!);
  assert.deepEqual(j?.result, { n: 6 });
  assert.equal(j?.attempts, 1);
  assert.deepEqual(await a.counts(), { queued: 0, running: 0, done: 20, failed: 0 });
  await a.close();
  await b.close();
});

test('an expired lease re-queues the job and the old worker can no longer finish it', async () => {
  const db = join(dir, 'b.db');
  let q = new SqliteJobQueue<string, string>(db);
  const { id } = await q.add('x');
  const j = await q.claim('old', 50);
  assert.equal(j?.id, id);
  assert.equal(await q.claim('other', 50), null, 'a running job is not handed out again');
  await q.close();
  // "Restart": reopen the file after the lease ended.
  q = new SqliteJobQueue<string, string>(db);
  assert.equal(await q.requeueExpired(Date.now() + 1000), 1);
  const again = await q.claim('new', 60_000);
  assert.equal(again?.id, id);
  assert.equal(again?.attempts, 2);
  assert.equal(await q.complete(id, 'old', 'stale'), false);
  assert.equal(await q.progress(id, 'new', 0.5), true);
  assert.equal(await q.complete(id, 'new', 'fresh'), true);
  assert.equal((await q.get(id))?.result, 'fresh');
  assert.equal(await q.get('no-such-id'), null);
  await q.close();
});
