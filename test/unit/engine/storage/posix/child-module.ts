import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

import ts from 'typescript';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..', '..', '..');

/**
 * Compiles an engine module and every module it imports (relative imports only) to plain
 * JavaScript under `outDir`, so that a child process started as another user can load it with
 * plain `node` (Node 20 cannot run TypeScript) without a build and without access to the checkout.
 * Returns the path of the compiled entry.
 */
export function compileForChild(entry: string, outDir: string): string {
  const pending = [resolve(repoRoot, entry)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const source = pending.pop()!;
    if (done.has(source)) continue;
    done.add(source);
    const text = readFileSync(source, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(resolve(dirname(source), `${match[1]!}.ts`));
    }
    const output = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: source,
    }).outputText;
    const target = join(outDir, relative(repoRoot, source)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, output);
  }
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return join(outDir, relative(repoRoot, entry)).replace(/\.ts$/, '.js');
}
