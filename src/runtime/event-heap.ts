/**
 * The timed events both runtimes order: an indexed binary min-heap by `(deadline, seq)` (the
 * deterministic scheduler's event queue; the Node clock's callback timers under one Timeout).
 *
 * @internal
 * @module
 */

/**
 * Something due at a time (the deterministic runtime's sleeps, deliveries and timeouts on its
 * virtual clock; the Node runtime's callback timers). Ordered by
 * `(deadline, seq)`; `index` is its slot in the heap (-1 when not scheduled) so that cancelling
 * is O(log n) and a cancelled sleep leaves nothing behind.
 */
export abstract class TimedEvent {
  deadline = 0;
  seq = 0;
  index = -1;
  abstract fire(): void;
}

function before(a: TimedEvent, b: TimedEvent): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

/** An indexed binary min-heap of events, earliest `(deadline, seq)` first. */
export class EventHeap {
  readonly #items: TimedEvent[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): TimedEvent | undefined {
    return this.#items[0];
  }

  push(e: TimedEvent): void {
    e.index = this.#items.length;
    this.#items.push(e);
    this.#up(e.index);
  }

  pop(): TimedEvent | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.#removeAt(0);
    return top;
  }

  remove(e: TimedEvent): void {
    if (e.index >= 0) this.#removeAt(e.index);
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const gone = items[i] as TimedEvent;
    const last = items.pop() as TimedEvent;
    gone.index = -1;
    if (last === gone) return;
    items[i] = last;
    last.index = i;
    this.#down(i);
    this.#up(last.index);
  }

  #up(i: number): void {
    const items = this.#items;
    const e = items[i] as TimedEvent;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as TimedEvent;
      if (!before(e, parent)) break;
      items[i] = parent;
      parent.index = i;
      i = p;
    }
    items[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const e = items[i] as TimedEvent;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(items[r] as TimedEvent, items[l] as TimedEvent)) c = r;
      const child = items[c] as TimedEvent;
      if (!before(child, e)) break;
      items[i] = child;
      child.index = i;
      i = c;
    }
    items[i] = e;
    e.index = i;
  }
}
