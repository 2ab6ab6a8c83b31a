// Layer rule (STYLE.md): a folder under src/ may import only from the folders listed for it.
// Fails with the offending imports. Run by `npm test`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname, 'src');
const allowed = {
  lib: [],
  events: ['lib'],
  log: ['lib', 'events'],
  model: ['lib', 'events'],
  storage: ['lib', 'events', 'log', 'model'],
  projections: ['lib', 'events', 'log', 'model'],
  gateway: ['lib', 'events', 'log', 'model', 'projections'],
  s3: ['lib', 'events', 'model', 'gateway', 'projections'],
  app: ['lib', 'events', 'log', 'model', 'storage', 'projections', 'gateway', 's3'],
  cli: ['lib', 'events', 'log', 'model', 'storage', 'projections', 'gateway', 's3', 'app'],
};

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const problems = [];
for (const file of files(root)) {
  const layer = relative(root, file).split('/')[0];
  if (!(layer in allowed)) {
    problems.push(`${relative(root, file)}: folder ${layer} has no layer rule`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    const target = relative(root, resolve(dirname(file), m[1]));
    const to = target.split('/')[0];
    if (to !== layer && !allowed[layer].includes(to)) problems.push(`src/${relative(root, file)} imports ${m[1]} (${layer} → ${to})`);
  }
}
if (problems.length > 0) {
  console.error('layer rule broken:\n' + problems.join('\n'));
  process.exit(1);
}
console.log('layers ok');
