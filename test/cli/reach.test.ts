/**
 * The `run` command's reachability report (src/cli/reach.ts) over lookup networks on the
 * deterministic runtime: a primary that does not connect is named in a warning, the warning is
 * not repeated while nothing changes, and one info line follows once it connects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkReachability,
  REACH_CHECK_MS,
  REACH_REPEAT_MS,
  reportReachability,
} from '../../src/cli/reach.js';
import type { Logger } from '../../src/runtime/context.js';
import * as look from '../p2p/authenticated/lookup/network/helpers.js';
import { twice } from '../p2p/authenticated/scenarios.js';

interface Line {
  readonly level: string;
  readonly msg: string | undefined;
  readonly obj: Record<string, unknown>;
  readonly at: number;
}

/** A logger that records what it is given, stamped with `now()`. */
function recorder(now: () => number): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, msg, obj: obj as Record<string, unknown>, at: now() });
    };
  const log: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return { log, lines };
}

describe('cli: reachability report', () => {
  test('a primary that is down is named; nothing repeats until it changes; one line once it connects', async () => {
    const result = await twice(5, async (ctx) => {
      const a = look.startPeer(ctx, 0);
      const c = look.startPeer(ctx, 2);
      // a dials b, which is not running yet, and c, which is; c knows a.
      const bKey = look.signer(1).publicKey;
      const bAddress = `${look.ipOf(1)}:3000`;
      a.oracle.register(0, [
        [bKey, bAddress],
        [c.pk, c.address],
      ]);
      c.oracle.register(0, look.entries([a]));
      const { log, lines } = recorder(() => ctx.clock.now());
      const stop = new AbortController();
      const t0 = ctx.clock.now();
      const done = reportReachability(a.network, a.pk, ctx.clock, log, stop.signal);

      // After the first period: one warning naming b (not c, not a itself).
      await ctx.clock.sleep(REACH_CHECK_MS + 1_000);
      const warns = () => lines.filter((l) => l.msg === 'not connected to some primary peers');
      assert.equal(warns().length, 1);
      const w = warns()[0]!;
      assert.equal(w.level, 'warn');
      assert.equal(w.obj.unreachable, 1);
      assert.equal(w.obj.primaries, 2);
      const named = w.obj.peers as { peer: string; address: string; state: string }[];
      assert.deepEqual(
        named.map((p) => [p.peer, p.address]),
        [[bKey.toHex(), bAddress]],
      );
      assert.ok(['disconnected', 'dialing'].includes(named[0]!.state), named[0]!.state);

      // Unchanged: no second warning until the repeat period has passed.
      await ctx.clock.sleep(REACH_REPEAT_MS - REACH_CHECK_MS * 2);
      assert.equal(warns().length, 1);
      await ctx.clock.sleep(REACH_CHECK_MS * 2);
      assert.equal(warns().length, 2);
      assert.ok(warns()[1]!.at - warns()[0]!.at >= REACH_REPEAT_MS);

      // b starts: they connect, and one info line says every primary is connected.
      const b = look.startPeer(ctx, 1);
      b.oracle.register(0, look.entries([a]));
      await ctx.clock.sleep(REACH_CHECK_MS * 2);
      const ok = lines.filter((l) => l.msg === 'connected to every primary peer');
      assert.equal(ok.length, 1);
      assert.equal(ok[0]!.level, 'info');
      assert.equal(ok[0]!.obj.primaries, 2);
      assert.equal(warns().length, 2);
      const r = await checkReachability(a.network, a.pk);
      assert.deepEqual(r, { primaries: 2, unreachable: [] });

      stop.abort();
      await done;
      for (const p of [a, b, c]) p.handle.stop();
      // Once stopped, a check answers undefined.
      await a.handle.done;
      assert.equal(await checkReachability(a.network, a.pk), undefined);
      return lines.map((l) => [l.level, l.msg, l.at - t0]);
    });
    assert.ok(result.length >= 3);
  });

  test('the report ends by itself once the network stops', async () => {
    await twice(6, async (ctx) => {
      const a = look.startPeer(ctx, 0);
      a.oracle.register(0, [[look.signer(1).publicKey, `${look.ipOf(1)}:3000`]]);
      const { log, lines } = recorder(() => ctx.clock.now());
      const done = reportReachability(
        a.network,
        a.pk,
        ctx.clock,
        log,
        new AbortController().signal,
      );
      await ctx.clock.sleep(REACH_CHECK_MS + 1_000);
      assert.equal(lines.filter((l) => l.level === 'warn').length, 1);
      a.handle.stop();
      await a.handle.done;
      // The next check reads no status and the loop returns without logging.
      await done;
      assert.equal(lines.length, 1);
    });
  });
});
