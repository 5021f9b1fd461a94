import { rmSync } from 'node:fs';
import { join } from 'node:path';

import type { TestProject } from 'vitest/node';

import { stageCli } from './stage-cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the staged, executable pgkeep CLI. */
    pgkeepBin: string;
  }
}

/** Integration tests: stage the built CLI once for every test file. */
export default function setup(project: TestProject): () => void {
  if (process.getuid?.() !== 0) {
    throw new Error('integration tests run PostgreSQL as the postgres user and need root: run them as root (npm test does)');
  }
  const stage = stageCli(join(import.meta.dirname, '..', '..'));
  project.provide('pgkeepBin', join(stage, 'pgkeep'));
  return () => rmSync(stage, { recursive: true, force: true });
}
