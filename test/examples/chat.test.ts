import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child, freePort, within } from '../helpers/child.js';

const CHAT = join(dirname(fileURLToPath(import.meta.url)), '../../examples/chat/main.js');

describe('examples/chat (two lookup participants as child processes)', { timeout: 60_000 }, () => {
  const children: Child[] = [];
  after(() => {
    for (const c of children) c.kill();
  });

  it('prints connection changes from network.events() and delivers a typed line', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const peers = `1@127.0.0.1:${p1},2@127.0.0.1:${p2}`;
    const start = (me: number, port: number): Child => {
      const c = new Child(
        CHAT,
        ['--network', 'lookup', '--me', String(me), '--port', String(port), '--peers', peers],
        'pipe',
      );
      children.push(c);
      return c;
    };
    const one = start(1, p1);
    const two = start(2, p2);
    await one.line((l) => l === '* peer 2 connected');
    await two.line((l) => l === '* peer 1 connected');
    // Until both sides see the connection a line may go nowhere: repeat until it arrives.
    const heard = one.line((l) => l === '[peer 2] hello from 2');
    let delivered = false;
    void heard.then(() => {
      delivered = true;
    });
    for (let i = 0; i < 50 && !delivered; i++) {
      two.process.stdin!.write('hello from 2\n');
      await Promise.race([
        heard,
        two.line((l) => l.startsWith('(not sent'), 500, two.lines.length).catch(() => {}),
      ]);
    }
    await heard;
    // End of input stops peer 2 cleanly; peer 1 hears of it as an event.
    two.process.stdin!.end();
    assert.deepEqual(await within(two.exited, 10_000, 'exit of peer 2'), { code: 0, signal: null });
    await one.line((l) => /^\* peer 2 disconnected( \(\w+\))?$/.test(l));
    one.process.stdin!.end();
    assert.deepEqual(await within(one.exited, 10_000, 'exit of peer 1'), { code: 0, signal: null });
    assert.equal(one.stderr, '');
  });
});
