/**
 * The published package: builds dist (`npm run build`), packs it (`npm pack`), checks the
 * tarball holds package.json, README.md, LICENSE and dist only (with the types of every subpath
 * export and the bin), installs it into an empty project (its runtime dependencies from npm's
 * cache or the registry), imports every subpath export there and runs `npx authp2p --help`.
 * Also checks that the API reference (`typedoc.json`) documents exactly the subpath exports.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

interface Pkg {
  name: string;
  files: string[];
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string }>;
}

/** Runs `npm args` in `cwd` (bounded by `timeout`), resolving to its stdout. */
async function npm(args: readonly string[], cwd: string, timeout = 120_000): Promise<string> {
  const { stdout } = await run('npm', [...args], { cwd, timeout, maxBuffer: 64 << 20 });
  return stdout;
}

/** `./dist/p2p/x/index.js` -> `dist/p2p/x/index.js`. */
const rel = (p: string): string => p.replace(/^\.\//, '');

describe('npm pack', { timeout: 180_000 }, () => {
  let pkg: Pkg;
  let dir: string;
  let tarball: string;
  let files: { path: string; mode: number }[];

  before(async () => {
    pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Pkg;
    dir = await mkdtemp(join(tmpdir(), 'authp2p-pack-'));
    await npm(['run', 'build'], ROOT);
    const out = await npm(['pack', '--json', '--pack-destination', dir], ROOT);
    const [packed] = JSON.parse(out) as [{ filename: string; files: typeof files }];
    tarball = join(dir, packed.filename);
    files = packed.files;
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('holds package.json, README.md, LICENSE and dist, nothing else', () => {
    assert.deepEqual(pkg.files, ['dist']);
    const paths = files.map((f) => f.path);
    const outside = paths.filter((p) => !p.startsWith('dist/')).sort();
    assert.deepEqual(outside, ['LICENSE', 'README.md', 'package.json']);
    // Every file of dist comes from a source module (no stale or test output).
    for (const p of paths.filter((q) => q.startsWith('dist/'))) {
      const source = p.replace(/^dist\//, 'src/').replace(/\.(js|d\.ts)(\.map)?$/, '.ts');
      assert.ok(existsSync(join(ROOT, source)), `${p} has no source ${source} (rm -rf dist?)`);
    }
  });

  it('holds the types and code of every subpath export and the executable bin', () => {
    const paths = new Set(files.map((f) => f.path));
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      assert.ok(paths.has(rel(entry.default)), `${subpath}: ${entry.default}`);
      assert.ok(paths.has(rel(entry.types)), `${subpath}: ${entry.types}`);
    }
    const bin = files.find((f) => f.path === rel(pkg.bin.authp2p!));
    assert.ok(bin !== undefined, 'the bin is packed');
    assert.equal(bin.mode & 0o111, 0o111, 'the bin is executable');
  });

  it('installs into an empty project: every subpath export imports, the bin runs --help', async () => {
    const project = join(dir, 'project');
    await run('mkdir', [project]);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'pack-check', private: true, type: 'module' }),
    );
    await npm(['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], project);
    const specifiers = Object.keys(pkg.exports).map((s) =>
      s === '.' ? pkg.name : `${pkg.name}/${s.slice(2)}`,
    );
    await writeFile(
      join(project, 'check.mjs'),
      `const out = {};\nfor (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(await import(s)).length;\nconsole.log(JSON.stringify(out));\n`,
    );
    const { stdout } = await run(process.execPath, ['check.mjs'], {
      cwd: project,
      timeout: 30_000,
    });
    const counts = JSON.parse(stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(counts), specifiers);
    for (const [s, n] of Object.entries(counts)) assert.ok(n > 0, `${s} exports nothing`);
    const help = await run('npx', ['--no', '--', 'authp2p', '--help'], {
      cwd: project,
      timeout: 30_000,
    });
    assert.match(help.stdout, /^usage: authp2p <command>/);
  });

  it('the API reference (typedoc.json) documents exactly the subpath exports', async () => {
    const typedoc = JSON.parse(await readFile(join(ROOT, 'typedoc.json'), 'utf8')) as {
      entryPoints: string[];
    };
    const sources = Object.values(pkg.exports).map((e) =>
      rel(e.default)
        .replace(/^dist\//, 'src/')
        .replace(/\.js$/, '.ts'),
    );
    assert.deepEqual([...typedoc.entryPoints].sort(), sources.sort());
  });
});
