import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/cli/config.js';
import { cli, keygen, lookupConfig, tempDir, writeConfig } from './helpers.js';

const PEER = '478b8e507e0bb2b18c0f9e0824769e8562d10df9abe2e774896f82b4b4405266'; // fromSeed(1)

describe('the node config file', () => {
  const tmp = tempDir();
  before(async () => {
    await keygen(tmp.dir, 'node.key');
  });
  after(() => tmp.remove());

  it('loads a lookup and a discovery config, with paths relative to the file', () => {
    const l = loadConfig(
      writeConfig(
        tmp.dir,
        'lookup.json',
        lookupConfig('node.key', {
          peers: { primary: [[PEER, '127.0.0.1:3002']], secondary: [] },
          allowedHandshakeRatePerIp: { perSecond: 4, burst: 2 },
          dialTimeoutMs: 3000,
          admin: '127.0.0.1:9091',
        }),
      ),
    );
    assert.equal(l.network, 'lookup');
    assert.equal(l.config.dialTimeoutMs, 3000);
    assert.equal(l.config.allowedHandshakeRatePerIp.burstSize, 2);
    assert.equal(l.peers.primary[0]![0].toHex(), PEER);
    assert.equal(l.admin, '127.0.0.1:9091');
    const d = loadConfig(
      writeConfig(tmp.dir, 'discovery.json', {
        ...lookupConfig('node.key', { network: 'discovery', peers: [PEER] }),
        dialable: 'node.example.com:3001',
        bootstrappers: [[PEER, '127.0.0.1:3002']],
      }),
    );
    assert.equal(d.network, 'discovery');
    assert.equal(d.config.bootstrappers.length, 1);
    assert.equal(d.config.dialable.kind, 'dns');
  });

  // Each bad file: the override, and what the one line must say (file: field: ...).
  const cases: [string, object, RegExp][] = [
    [
      'an unknown field',
      { colour: 'blue' },
      /^lookup\.json: lookup config: colour is not a config field$/,
    ],
    ['a misspelt network field', { dialTimeout: 5 }, /dialTimeout is not a config field/],
    [
      'a wrong type',
      { maxPeersPerSet: '8' },
      /^lookup\.json: lookup config: maxPeersPerSet must be an integer/,
    ],
    [
      'a wrong type for a CLI field',
      { namespace: 7 },
      /^lookup\.json: namespace: must be a string, got number$/,
    ],
    [
      'a bad listen address',
      { listen: '127.0.0.1' },
      /^lookup\.json: lookup config: listen invalid socket address "127\.0\.0\.1"/,
    ],
    [
      'a bad peer address',
      { peers: [[PEER, '1.2.3.4:99999']] },
      /^lookup\.json: peers\[0\]\[1\]: invalid ingress "1\.2\.3\.4:99999": port must be/,
    ],
    [
      'a bad peer key',
      { peers: [['abcd', '127.0.0.1:3002']] },
      /^lookup\.json: peers\[0\]\[0\]: is not a public key/,
    ],
    ['a bad admin address', { admin: 'localhost' }, /^lookup\.json: admin: invalid socket address/],
    [
      'an admin token with a space',
      { admin: '127.0.0.1:9091', adminToken: 'open sesame' },
      /^lookup\.json: adminToken: must be 1 to 256 printable ASCII/,
    ],
    [
      'a public admin address without a token',
      { admin: '0.0.0.0:9091' },
      /^lookup\.json: adminToken: is required/,
    ],
    [
      'an unreadable key',
      { key: 'missing.key' },
      /^lookup\.json: key: cannot read .*missing\.key: ENOENT$/,
    ],
    [
      'a quota of the wrong shape',
      { allowedHandshakeRatePerIp: 16 },
      /^lookup\.json: allowedHandshakeRatePerIp: must be an object/,
    ],
    [
      'a discovery field on lookup',
      { bootstrappers: [] },
      /^lookup\.json: bootstrappers: is a discovery field/,
    ],
    [
      'too many peers',
      { maxPeersPerSet: 1, peers: [[PEER, '127.0.0.1:3002']] },
      /^lookup\.json: peers: has 2 peers counting this node/,
    ],
    [
      'a missing network',
      { network: undefined },
      /^lookup\.json: network: must be "lookup" or "discovery"/,
    ],
  ];
  for (const [what, override, expected] of cases) {
    it(`refuses ${what} with one line naming the field, exit 2`, async () => {
      const file = writeConfig(tmp.dir, 'lookup.json', lookupConfig('node.key', override));
      const r = await cli('check-peers', file);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      assert.match(r.stderr.replace(/^authp2p: /, '').trimEnd(), expected);
    });
  }

  it('refuses a file that is not JSON, naming the file', async () => {
    const file = join(tmp.dir, 'broken.json');
    (await import('node:fs')).writeFileSync(file, '{ "network": ');
    const r = await cli('run', file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^authp2p: broken\.json: is not JSON: /);
  });
});
