import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope } from '../../src/runtime/core.js';
import { MetricsRoot } from '../../src/runtime/metrics.js';

test('a scope aborted before its signal is read reports the same aborted state and reason', () => {
  const parent = new Scope();
  const child = new Scope(parent);
  const grandchild = new Scope(child);
  const reason = new Error('stop');
  parent.abort(reason);
  assert.equal(child.aborted, true);
  assert.equal(child.reason, reason);
  // The signal created afterwards is already aborted with the recorded reason.
  assert.equal(grandchild.signal.aborted, true);
  assert.equal(grandchild.signal.reason, reason);
  // A scope created under an aborted parent starts aborted.
  const late = new Scope(parent);
  assert.equal(late.aborted, true);
  assert.equal(late.signal.reason, reason);
});

test('aborting without a reason gives an AbortError DOMException to the whole subtree', () => {
  const parent = new Scope();
  const child = new Scope(parent);
  parent.abort();
  assert.ok(parent.reason instanceof DOMException);
  assert.equal((parent.reason as DOMException).name, 'AbortError');
  assert.equal(child.reason, parent.reason);
  assert.equal(child.signal.reason, parent.reason);
});

test('abort listeners on a read signal fire synchronously, parents first', () => {
  const parent = new Scope();
  const child = new Scope(parent);
  const order: string[] = [];
  parent.signal.addEventListener('abort', () => order.push('parent'));
  child.signal.addEventListener('abort', () => order.push('child'));
  parent.abort('r');
  assert.deepEqual(order, ['parent', 'child']);
  // Idempotent: a second abort changes nothing.
  parent.abort('other');
  assert.equal(child.signal.reason, 'r');
});

test('a bound counter adds to its label set and every read or exposition sees the counts', async () => {
  const root = new MetricsRoot();
  const counter = root.view('').counter('frames', 'frames', ['peer']);
  assert.ok(counter.bind !== undefined);
  const a = counter.bind({ peer: 'a' });
  const b = counter.bind({ peer: 'b' });
  a.inc();
  a.inc(4);
  b.inc(2);
  counter.inc({ peer: 'a' }, 10);
  assert.equal(counter.get({ peer: 'a' }), 15);
  assert.equal(counter.get({ peer: 'b' }), 2);
  b.inc();
  const text = await root.encode('');
  assert.match(text, /frames_total\{peer="b"\} 3/);
  assert.match(text, /frames_total\{peer="a"\} 15/);
  // Counters never decrease, bound or not.
  assert.throws(() => a.inc(-1));
  assert.throws(() => a.inc(Number.NaN));
  assert.equal(counter.get({ peer: 'a' }), 15);
});

test('an abort callback may be an object (its wake() is called), and offAbort removes it', () => {
  const scope = new Scope();
  const seen: string[] = [];
  const a = { wake: () => seen.push('a') };
  const b = { wake: () => seen.push('b') };
  const removed = { wake: () => seen.push('removed') };
  scope.onAbort(a);
  scope.onAbort(removed);
  scope.onAbort(b);
  scope.offAbort(removed);
  scope.abort(new Error('stop'));
  assert.deepEqual(seen, ['a', 'b']);
});
