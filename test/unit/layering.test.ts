import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('layering is enforced by tooling', () => {
  it('engine/ compiler settings reject Electron imports and DOM globals', () => {
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'test', 'layering', 'tsconfig.json')],
      {
        encoding: 'utf8',
      },
    );
    expect(tsc.status).not.toBe(0);
    expect(tsc.stdout).toMatch(
      /engine-imports-electron\.ts\(3,\d+\): error TS2305: Module '"electron"' has no exported member 'app'/,
    );
    expect(tsc.stdout).toMatch(/engine-uses-dom\.ts\(2,\d+\): error TS2584: Cannot find name 'document'/);
  });

  it("main/electron is checked against electron's own types", () => {
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'test', 'layering', 'electron', 'tsconfig.json')],
      {
        encoding: 'utf8',
      },
    );
    expect(tsc.stdout).toMatch(/misuse\.ts\(5,\d+\): error TS2551: Property 'enableSandboxx' does not exist on type 'App'/);
    expect(tsc.stdout).toMatch(
      /misuse\.ts\(6,\d+\): error TS2322: Type 'string' is not assignable to type 'boolean \| undefined'/,
    );
  });

  const eslint = new ESLint({ cwd: root });
  const lint = async (code: string, filePath: string) =>
    (await eslint.lintText(code, { filePath: join(root, filePath) }))[0]!.messages.map((m) => m.message);

  it('lint refuses electron, main/ and renderer/ imports in engine/', async () => {
    expect(await lint("import { app } from 'electron';\nexport const a = app;\n", 'engine/probe.ts')).toEqual([
      expect.stringContaining('no Electron'),
    ]);
    expect(await lint("import { x } from '../main/web/server.js';\nexport const a = x;\n", 'engine/probe.ts')).toEqual([
      expect.stringContaining('must not import main/'),
    ]);
    expect(await lint('export const t = document.title;\n', 'engine/probe.ts')).toEqual([expect.stringContaining("'document'")]);
  });

  it('lint lets the renderer import only types from engine/service', async () => {
    expect(
      await lint("import type { Api } from '../engine/service/api.js';\nexport type A = Api;\n", 'renderer/src/probe.ts'),
    ).toEqual([]);
    expect(
      await lint("import { api } from '../engine/service/api.js';\nexport const a = api;\n", 'renderer/src/probe.ts'),
    ).toEqual([expect.stringContaining('only types from engine/service')]);
    expect(await lint("import { x } from '../engine/config/config.js';\nexport const a = x;\n", 'renderer/src/probe.ts')).toEqual(
      [expect.stringContaining('only types from engine/service')],
    );
    expect(
      await lint("import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n", 'renderer/src/probe.ts'),
    ).toEqual([expect.stringContaining('sandboxed')]);
  });
});
