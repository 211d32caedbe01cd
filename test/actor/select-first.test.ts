// Its own file (node --test runs each file in its own process): the first select of a process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mailbox, select, unreliable } from '../../src/actor/index.js';

/** Microtask turns until `p` settles (at most 100). */
async function turns(p: Promise<unknown>): Promise<number> {
  let settled = false;
  void p.then(() => {
    settled = true;
  });
  let n = 0;
  while (!settled && n < 100) {
    await Promise.resolve();
    n++;
  }
  return n;
}

describe('select, first use in a process', () => {
  it('resolves a ready inbox in as many microtask turns the first time as later', async () => {
    // A ready inbox hands out the mailboxes' shared settled promise: its record must be settled
    // from the start, or the first select of a process takes longer than the next ones and two
    // runs of one deterministic program in one process see different orders.
    const [tx, rx] = mailbox<number>(4, unreliable());
    tx.enqueue(1);
    const first = await turns(select(undefined, rx.ready()));
    const second = await turns(select(undefined, rx.ready()));
    assert.equal(first, second);
    rx.close();
    const closedFirst = await turns(select(undefined, rx.ready()));
    const closedSecond = await turns(select(undefined, rx.ready()));
    assert.equal(closedFirst, closedSecond);
  });
});
