/**
 * The web view in a real browser: Debian's Chromium, headless, driven by playwright-core
 * against the system binary (`.ci/run` installs it). Four demo peers on loopback TCP; peer 0's
 * admin endpoint serves the page. The page must load without a console error, show every other
 * peer connected, and update when a peer is stopped. With `AUTHP2P_SCREENSHOT=path` it also
 * saves a screenshot (how `docs/web-view.png` was made).
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { serveAdmin } from '../../src/admin/index.js';
import { nodeRuntime } from '../../src/runtime/index.js';
import { served } from './helpers.js';

/** The system Chromium (Debian's `chromium` package). */
function chromiumPath(): string {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // try the next name
    }
  }
  throw new Error('no system Chromium: apt-get install chromium (.ci/run does)');
}

test('the web view shows every demo peer connected and updates when one stops', {
  timeout: 90_000,
}, async () => {
  await nodeRuntime().run(async (ctx) => {
    const cluster = await served(ctx, 4, { tickMs: 250 }, 'discovery');
    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(cluster.admin.url, { timeout: 20_000 });
      const others = cluster.peers.slice(1).map((p) => p.key.publicKey.toHex());
      for (const hex of others) {
        await page.waitForSelector(`tr[data-peer="${hex}"][data-state="connected"]`, {
          timeout: 20_000,
        });
      }
      await page.waitForSelector('[data-channel="0"]', { timeout: 20_000 });
      await page.waitForSelector('.bits[data-bits="1111"]', { timeout: 20_000 });
      const shot = process.env.AUTHP2P_SCREENSHOT;
      if (shot !== undefined && shot !== '') {
        // Some snapshots later the charts have rates to draw.
        await page.waitForTimeout(6000);
        await page.screenshot({ path: shot, fullPage: true });
      }

      // With a token, the page sends it from its fragment.
      const guarded = await serveAdmin(cluster.peers[0]!.ctx, cluster.peers[0]!.network, {
        listen: '127.0.0.1:0',
        token: 'web-view-token',
      });
      const second = await browser.newPage();
      second.on('pageerror', (e) => errors.push(String(e)));
      await second.goto(`${guarded.url}#token=web-view-token`, { timeout: 20_000 });
      await second.waitForSelector(`tr[data-peer="${others[0]}"][data-state="connected"]`, {
        timeout: 20_000,
      });
      await second.close();
      await guarded.stop();

      const gone = cluster.peers[3]!;
      await gone.stop();
      const hex = gone.key.publicKey.toHex();
      await page.waitForSelector(`tr[data-peer="${hex}"]:not([data-state="connected"])`, {
        timeout: 20_000,
      });
      await page.waitForSelector('#events li.disconnected', { timeout: 20_000 });
      assert.equal(await page.locator('tr[data-state="connected"]').count(), 2);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await cluster.close();
    }
  });
});
