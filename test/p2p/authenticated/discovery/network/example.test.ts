/**
 * Runs the `# Example` of the discovery module essay (`src/p2p/authenticated/discovery/index.ts`)
 * exactly as written: the code block is read from the source file, its `authp2p/...` imports
 * are pointed at the compiled modules the package's `exports` name (`dist/` becomes
 * `build/src/`), TypeScript's types are stripped, and the result runs as an ES module whose
 * `console.log` lines must match the `// '...'` comments the example ends them with.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The repository root: this file runs from `build/test/p2p/authenticated/discovery/network/`. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../..');

/** The first ```ts block after `# Example` in the TSDoc comment of `source`, without ` * `. */
function exampleOf(source: string): string {
  const lines = source.split('\n').map((l) => l.replace(/^ \* ?/, ''));
  const heading = lines.indexOf('# Example');
  assert.ok(heading >= 0, 'the essay has an # Example section');
  const open = lines.indexOf('```ts', heading);
  const close = lines.indexOf('```', open + 1);
  assert.ok(open > heading && close > open, 'the example is a closed ```ts block');
  return lines.slice(open + 1, close).join('\n');
}

/** `code` with each `'authp2p/x'` import replaced by the file URL of the compiled module. */
async function resolveImports(code: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, { default: string }>;
  };
  return code.replace(/from '(authp2p(?:\/[a-z]+)?)'/g, (_, specifier: string) => {
    const entry = pkg.exports[specifier === 'authp2p' ? '.' : `./${specifier.slice(8)}`];
    assert.ok(entry !== undefined, `package.json exports ${specifier}`);
    const compiled = join(ROOT, entry.default.replace(/^\.\/dist\//, 'build/src/'));
    return `from '${pathToFileURL(compiled).href}'`;
  });
}

test('the module example runs as written', { timeout: 60_000 }, async () => {
  const source = await readFile(join(ROOT, 'src/p2p/authenticated/discovery/index.ts'), 'utf8');
  const example = exampleOf(source);
  const expected = [...example.matchAll(/console\.log\(.*\); \/\/ '(.*)'$/gm)].map((m) => m[1]);
  assert.ok(expected.length > 0, 'the example states what it prints');

  const { outputText } = ts.transpileModule(await resolveImports(example), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  });
  const dir = await mkdtemp(join(tmpdir(), 'authp2p-example-'));
  const printed: string[] = [];
  const log = console.log;
  try {
    const file = join(dir, 'example.mjs');
    await writeFile(file, outputText);
    console.log = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(printed, expected);
});
