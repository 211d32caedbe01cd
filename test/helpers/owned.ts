/**
 * The check that a byte array handed to the application owns its memory (issue 12 §4): its
 * `.buffer` is bounded by its own length and holds nothing of any other message.
 */

import assert from 'node:assert/strict';

/** The slack a delivered message's buffer may have beyond its own bytes (its frame's header). */
export const OWN_BUFFER_SLACK = 64;

/**
 * The first marker byte: tests fill each message with one marker of `MARKER..0xff`, and choose
 * channels and sizes so that no header byte (tag, channel, length varint) is in that range.
 */
export const MARKER = 0xe0;

/**
 * Asserts that `msg` is `length` bytes of `marker`, that `msg.buffer` is at most
 * `msg.length + OWN_BUFFER_SLACK` bytes, and that no byte of the buffer outside `msg` is a marker
 * (a neighbour's plaintext would be).
 */
export function assertOwnsBuffer(msg: Uint8Array, marker: number, length: number, what: string) {
  assert.equal(msg.length, length, `${what}: length`);
  for (let i = 0; i < msg.length; i++) {
    if (msg[i] !== marker) assert.fail(`${what}: byte ${i} is ${msg[i]}, not ${marker}`);
  }
  const whole = new Uint8Array(msg.buffer);
  assert.ok(
    whole.length <= msg.length + OWN_BUFFER_SLACK,
    `${what}: a ${msg.length}-byte message in a ${whole.length}-byte buffer`,
  );
  for (let i = 0; i < whole.length; i++) {
    if (i >= msg.byteOffset && i < msg.byteOffset + msg.length) continue;
    if (whole[i]! >= MARKER)
      assert.fail(`${what}: byte ${i} of its buffer belongs to another message`);
  }
}
