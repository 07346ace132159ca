import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folders of src/ form layers: which folder imports which (tests aside), with no cycle of any
 * length — so a room (bots/, publisher/, telegram/, metrics/, …) can change without the others
 * that it does not import.
 */
const SRC = dirname(fileURLToPath(import.meta.url));

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const from = relative(SRC, file).split('/');
    if (from.length < 2) continue; // main.ts, app.module.ts, cli.ts: the top, importing everything
    for (const [, path] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = relative(SRC, resolve(dirname(file), path as string)).split('/')[0] as string;
      if (to === from[0] || to.endsWith('.js')) continue;
      const edges = graph.get(from[0] as string) ?? new Set<string>();
      graph.set(from[0] as string, edges.add(to));
    }
  }
  return graph;
}

/** A cycle through the graph, as the folders on it, or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('src/ folders', () => {
  it('import one another without a cycle', () => {
    const graph = folderGraph();
    expect(graph.get('publisher')).toBeDefined();
    expect(findCycle(graph)?.join(' → ')).toBeUndefined();
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
  });
});
