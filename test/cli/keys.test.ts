import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ed25519 } from '../../src/crypto/index.js';
import { cli, keygen, lookupConfig, tempDir, writeConfig } from './helpers.js';

describe('authp2p keygen and pubkey', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  it('keygen writes a mode-0600 key file and prints its public key, which pubkey repeats', async () => {
    const file = join(tmp.dir, 'a.key');
    const r = await cli('keygen', '--out', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const seed = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    assert.equal(ed25519.PrivateKey.fromBytes(seed).publicKey.toHex(), r.stdout.trim());
    const p = await cli('pubkey', file);
    assert.deepEqual(p, { status: 0, stdout: r.stdout, stderr: '' });
  });

  it('keygen refuses to overwrite a file without --force (exit 2) and replaces it with --force', async () => {
    const file = join(tmp.dir, 'b.key');
    writeFileSync(file, 'precious\n', { mode: 0o644 });
    const refused = await cli('keygen', '--out', file);
    assert.equal(refused.status, 2);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /^authp2p: keygen: .*b\.key exists \(use --force to overwrite it\)\n$/,
    );
    assert.equal(readFileSync(file, 'utf8'), 'precious\n');
    const forced = await cli('keygen', '--out', file, '--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the old mode 0644 is not kept');
    assert.equal((await cli('pubkey', file)).stdout, forced.stdout);
  });

  it('pubkey of a missing or malformed file is one line and exit 2', async () => {
    const missing = await cli('pubkey', join(tmp.dir, 'none.key'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^authp2p: pubkey: cannot read .*none\.key: ENOENT\n$/);
    const bad = join(tmp.dir, 'bad.key');
    writeFileSync(bad, 'xyz\n');
    const malformed = await cli('pubkey', bad);
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /^authp2p: pubkey: .*bad\.key is not a key file/);
  });

  it('a key file readable by group or others is refused by run and check-peers (exit 2)', async () => {
    await keygen(tmp.dir, 'open.key');
    chmodSync(join(tmp.dir, 'open.key'), 0o640);
    const config = writeConfig(tmp.dir, 'open.json', lookupConfig('open.key'));
    for (const command of ['run', 'check-peers']) {
      const r = await cli(command, config);
      assert.equal(r.status, 2, command);
      assert.match(
        r.stderr,
        /^authp2p: open\.json: key: .*open\.key is readable by group or others \(mode 0640\); run chmod 600 .*\n$/,
      );
    }
  });

  it('every command has --help (exit 0), and a bad command line is exit 2', async () => {
    for (const command of ['keygen', 'pubkey', 'run', 'status', 'check-peers']) {
      const r = await cli(command, '--help');
      assert.equal(r.status, 0, command);
      assert.match(r.stdout, new RegExp(`^usage: authp2p ${command}`));
    }
    assert.equal((await cli('--help')).status, 0);
    assert.equal((await cli('frobnicate')).status, 2);
    assert.equal((await cli('keygen')).status, 2);
    assert.equal((await cli('status', '--admin', '127.0.0.1:1', '--bogus')).status, 2);
  });
});
