// Coverage of engine/ code run by child processes. The integration tests run the built CLI
// (dist/engine/cli.js) and its worker processes as real programs, which vitest's coverage, taken
// in its own processes, does not see (vitest 5 can; it needs Node 22). `npm run coverage` sets
// NODE_V8_COVERAGE, so every Node process the tests start writes its V8 block coverage when it
// exits; this module maps that coverage of dist/engine/**/*.js (in the checkout, or in the copy
// the tests stage for other users: test/harness/stage-cli.ts) back to engine/**/*.ts through the
// build's source maps and adds its hits to vitest's figures (see addHits).
// A process killed with SIGKILL writes nothing: the tests that kill workers on purpose count only
// through the processes that ran the same code to its end.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import astV8ToIstanbul from 'ast-v8-to-istanbul';
import libCoverage from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';
import { parseAstAsync } from 'vitest/node';

/**
 * Merges the raw coverage in `rawDir` (NODE_V8_COVERAGE) into vitest's `coverage-final.json` and
 * writes the text and JSON summaries of engine/ and the merged coverage itself into `outDir`.
 * Returns the figures.
 */
export async function mergeProcessCoverage({ root, rawDir, vitestJson, outDir }) {
  const dist = pathToFileURL(join(root, 'dist', 'engine')).href + '/';
  // Per script, each distinct set of covered ranges once: thousands of processes run the same
  // paths, and only whether a range ran matters, not how often.
  const shapes = new Map();
  let processes = 0;
  for (const name of readdirSync(rawDir)) {
    if (!name.endsWith('.json')) continue;
    processes++;
    const { result } = JSON.parse(readFileSync(join(rawDir, name), 'utf8'));
    for (const script of result) {
      const built = /^file:\/\/.*?\/dist\/engine\/(.+\.js)$/.exec(script.url);
      if (built === null) continue;
      const url = dist + built[1];
      const functions = script.functions.map((fn) => ({
        ...fn,
        ranges: fn.ranges.map((range) => ({ ...range, count: range.count > 0 ? 1 : 0 })),
      }));
      const key = createHash('sha1').update(JSON.stringify(functions)).digest('hex');
      let byShape = shapes.get(url);
      if (byShape === undefined) shapes.set(url, (byShape = new Map()));
      byShape.set(key, functions);
    }
  }

  // The child processes' coverage, each script's shapes merged (same code, same maps).
  const children = libCoverage.createCoverageMap({});
  for (const [url, byShape] of shapes) {
    const path = fileURLToPath(url);
    const code = readFileSync(path, 'utf8');
    const sourceMap = JSON.parse(readFileSync(`${path}.map`, 'utf8'));
    const ast = await parseAstAsync(code);
    for (const functions of byShape.values())
      children.merge(await astV8ToIstanbul({ code, sourceMap, ast, coverage: { url, functions } }));
  }

  const map = libCoverage.createCoverageMap(JSON.parse(readFileSync(vitestJson, 'utf8')));
  const inProcess = summarize(map, root);
  let unmatched = 0;
  const vitestFiles = new Set(map.files());
  for (const file of children.files()) {
    if (!vitestFiles.has(file)) continue;
    unmatched += addHits(map.fileCoverageFor(file).data, children.fileCoverageFor(file).data);
  }
  const engine = join(root, 'engine') + sep;
  map.filter((file) => file.startsWith(engine) && file.endsWith('.ts'));
  const context = libReport.createContext({ dir: outDir, coverageMap: map });
  reports.create('text-summary').execute(context);
  reports.create('json-summary', { file: 'coverage-summary-all.json' }).execute(context);
  // Per line and branch, for finding what is left (istanbul's JSON: statementMap, s, branchMap, b).
  reports.create('json', { file: 'coverage-final-all.json' }).execute(context);
  return { processes, inProcess, all: summarize(map, root), unmatched };
}

/**
 * Adds the hits of `child` (the same source file, compiled by tsc) to `into` (vitest's, compiled by
 * Vite). Both list the same statements, functions and branches in the same order, but their
 * columns differ here and there (an arrow function's start, an end column istanbul leaves out), so
 * istanbul's own merge, by whole location, would count many twice. An item is matched by its place
 * in the list when it starts on the same line (and, for a branch, is of the same type and has as
 * many paths), else by where it starts. Returns how many child items found no match: their hits
 * are left out, never guessed.
 */
function addHits(into, child) {
  let unmatched = 0;
  const add = (intoMap, intoHits, childMap, childHits, where, kind, addHit) => {
    const byStart = new Map();
    for (const [id, item] of Object.entries(intoMap)) byStart.set(`${kind(item)} ${where(item)}`, id);
    for (const [id, item] of Object.entries(childMap)) {
      const same = intoMap[id];
      const target =
        same !== undefined && kind(same) === kind(item) && lineOf(where(same)) === lineOf(where(item))
          ? id
          : byStart.get(`${kind(item)} ${where(item)}`);
      if (target === undefined) unmatched++;
      else intoHits[target] = addHit(intoHits[target], childHits[id]);
    }
  };
  const start = (loc) => `${loc.start.line}:${loc.start.column}`;
  const sum = (a, b) => a + b;
  add(into.statementMap, into.s, child.statementMap, child.s, start, () => '', sum);
  add(
    into.fnMap,
    into.f,
    child.fnMap,
    child.f,
    (fn) => start(fn.decl),
    () => '',
    sum,
  );
  add(
    into.branchMap,
    into.b,
    child.branchMap,
    child.b,
    (branch) => start(branch.loc),
    (branch) => `${branch.type}/${branch.locations.length}`,
    (a, b) => a.map((hits, index) => hits + b[index]),
  );
  return unmatched;
}

function lineOf(where) {
  return where.slice(0, where.indexOf(':'));
}

/** Lines and branches of engine/**.ts in a coverage map, as percentages. */
function summarize(map, root) {
  const summary = libCoverage.createCoverageSummary();
  const engine = join(root, 'engine') + sep;
  for (const file of map.files()) if (file.startsWith(engine)) summary.merge(map.fileCoverageFor(file).toSummary());
  return { lines: summary.lines.pct, branches: summary.branches.pct };
}
