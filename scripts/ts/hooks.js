// @ts-check
// Module hooks (nodejs.org/api/module.html#customization-hooks) for running TypeScript with swc.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import swc from '@swc/core';

/** @type {(id: string) => unknown} */
const require = createRequire(import.meta.url);

/** jest.swc.cjs exports `['@swc/jest', options]`: Nest's legacy decorators with their metadata, as ESM. */
const [, SWC_OPTIONS] = /** @type {[string, import('@swc/core').Options]} */ (require('../../jest.swc.cjs'));

/**
 * Relative imports end in `.js` (NodeNext); when only the `.ts` source exists, load that.
 *
 * @type {import('node:module').ResolveHook}
 */
export const resolve = (specifier, context, nextResolve) => {
  const relative = specifier.startsWith('./') || specifier.startsWith('../');
  if (relative && specifier.endsWith('.js') && context.parentURL?.startsWith('file:')) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(url)) {
      const source = new URL(`${url.href.slice(0, -3)}.ts`);
      if (existsSync(source)) return { url: source.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
};

/** @type {import('node:module').LoadHook} */
export const load = async (url, context, nextLoad) => {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.endsWith('.d.ts')) {
    return nextLoad(url, context);
  }
  const filename = fileURLToPath(url);
  const { code } = await swc.transform(await readFile(filename, 'utf8'), { ...SWC_OPTIONS, filename });
  return { format: 'module', source: code, shortCircuit: true };
};
