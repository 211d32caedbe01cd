import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child, within } from '../helpers/child.js';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '../../examples/demo/main.js');
const ARGS = ['--peers', '3', '--duration', '2'];
const ESC = '\x1b';

describe('examples/demo (the live table)', { timeout: 60_000 }, () => {
  const children: Child[] = [];
  after(() => {
    for (const c of children) c.kill();
  });

  it('prints plain lines when piped and exits 0', async () => {
    const demo = new Child(DEMO, ARGS);
    children.push(demo);
    assert.deepEqual(await within(demo.exited, 30_000, 'exit of the demo'), {
      code: 0,
      signal: null,
    });
    const out = demo.lines.join('\n');
    assert.ok(!out.includes(ESC), 'no escape sequence on a pipe');
    assert.ok(demo.lines.includes('OK: every peer heard from every other peer.'), out);
  });

  it('redraws the table in place on a TTY (cursor up, clear)', async () => {
    // script(1) (util-linux) runs the demo on a pseudo-terminal and copies what it writes.
    const cmd = [process.execPath, DEMO, ...ARGS].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const code = await within(
      new Promise<number | null>((resolve) => child.once('exit', resolve)),
      30_000,
      'exit of the demo on a pseudo-terminal',
    ).finally(() => child.kill('SIGKILL'));
    assert.equal(code, 0, out);
    const lines = out.split(/\r?\n/);
    const redrawn = new RegExp(`^(${ESC}\\[\\d+A\r${ESC}\\[0J)?t=\\d+s {3}peer`);
    const headers = lines.filter((l) => redrawn.test(l));
    // One table per second (t=1s, t=2s) and the summary's; the second redraws over the first:
    // up the 4 lines (header and 3 peers) and clear to the end of the screen.
    assert.ok(headers.length >= 3, out);
    assert.ok(headers[0]!.startsWith('t='), out); // the first table draws over nothing
    assert.ok(headers[1]!.startsWith(`${ESC}[4A\r${ESC}[0Jt=`), out);
    // The summary prints below the last live table, not over it.
    assert.ok(headers.at(-1)!.startsWith('t='), out);
    assert.ok(out.includes('OK: every peer heard from every other peer.'), out);
  });
});
