// Fails when a feature folder under src/ imports a folder that imports it back (directly or around a loop).
// Files in src/ itself (entry points, the root module) compose the folders and are left out.
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { dirname, join, relative, resolve, sep } = require('node:path');

const SRC = resolve(__dirname, '..', 'src');
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) yield path;
  }
}

/** The feature folder of a path under src/ (its first segment), or undefined for files in src/ itself. */
const folderOf = (path) => {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 && parts[0] !== '..' ? parts[0] : undefined;
};

/** edges.get(a).get(b) = one file of `a` that imports from `b`. */
const edges = new Map();
for (const file of sourceFiles(SRC)) {
  const from = folderOf(file);
  if (!from) continue;
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const to = folderOf(resolve(dirname(file), match[1] ?? match[2]));
    if (!to || to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, relative(SRC, file));
  }
}

/** Every folder reachable from `start`, with the path that reaches it first (breadth-first: shortest loops). */
function loopBack(start) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const folder = queue.shift();
    for (const next of edges.get(folder)?.keys() ?? []) {
      if (next === start) {
        const loop = [folder];
        while (previous.get(loop[0]) !== undefined) loop.unshift(previous.get(loop[0]));
        return [...loop, start];
      }
      if (!previous.has(next)) {
        previous.set(next, folder);
        queue.push(next);
      }
    }
  }
  return undefined;
}

const reported = new Set();
let failed = false;
for (const folder of [...edges.keys()].sort()) {
  const loop = loopBack(folder);
  if (!loop) continue;
  const key = [...new Set(loop)].sort().join(',');
  if (reported.has(key)) continue;
  reported.add(key);
  failed = true;
  console.error(`Import cycle between folders: ${loop.join(' -> ')}`);
  for (let i = 0; i < loop.length - 1; i++)
    console.error(`  ${loop[i]} -> ${loop[i + 1]}: ${edges.get(loop[i]).get(loop[i + 1])}`);
}
if (failed) process.exit(1);
console.log(`No import cycles between the ${edges.size} folders of src/.`);
