/**
 * The package ships dist/lib without dist/lib/app (the deployable app, which needs the dev-only
 * cdk-nag): nothing the library constructs load may import lib/app, directly or through
 * another module, or the packed JavaScript would require a file that is not there.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const LIB = resolve(__dirname, '..', '..', 'lib');
const APP = join(LIB, 'app');

/** Relative imports (`import`/`export ... from`, `require`) of a TypeScript source, resolved to files. */
function relativeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:from\s+|require\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specifiers.map((s) => {
    const base = resolve(dirname(file), s);
    const candidate = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
    if (!candidate) throw new Error(`${relative(LIB, file)}: cannot resolve '${s}'`);
    return candidate;
  });
}

/** Every lib file `start` loads, with the chain that leads to each. */
function reachable(start: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const next of relativeImports(file)) {
      if (!chains.has(next)) {
        chains.set(next, [...chains.get(file)!, next]);
        queue.push(next);
      }
    }
  }
  return chains;
}

test('nothing in lib/ecs imports lib/app, directly or indirectly', () => {
  const ecsFiles = readdirSync(join(LIB, 'ecs')).filter((f) => f.endsWith('.ts')).map((f) => join(LIB, 'ecs', f));
  expect(ecsFiles.length).toBeGreaterThan(5);
  const violations = ecsFiles.flatMap((file) => [...reachable(file)]
    .filter(([target]) => target.startsWith(`${APP}/`))
    .map(([, chain]) => chain.map((f) => relative(LIB, f)).join(' -> ')));
  expect(violations).toEqual([]);
});

test('the check finds an import of lib/app', () => {
  // The app's own modules do import each other: the walk must see that.
  const chains = [...reachable(join(APP, 'app-config.ts')).keys()].map((f) => relative(LIB, f));
  expect(chains).toEqual(expect.arrayContaining(['app/backend-context.ts', 'app/context.ts', 'ecs/secret-arn.ts']));
});

/** Modules that hold facts or shell text other code shares (the CLI, tests run under sh). */
const WITHOUT_AWS_CDK_LIB = ['backend-env.ts', 'storage-kinds.ts', 'ecs/backend-ports.ts', 'ecs/origins.ts', 'ecs/entrypoint/backend-entrypoint.ts', 'ecs/entrypoint/database-ca-bundle.ts'];

/** The import chains from `file` to a module that imports aws-cdk-lib or constructs. */
function cdkImportChains(file: string): string[] {
  return [...reachable(join(LIB, file))]
    .filter(([target]) => /from\s+'(aws-cdk-lib|constructs)(\/[^']*)?'|require\('(aws-cdk-lib|constructs)/.test(readFileSync(target, 'utf8')))
    .map(([, chain]) => chain.map((f) => relative(LIB, f)).join(' -> '));
}

test.each(WITHOUT_AWS_CDK_LIB)('%s loads no aws-cdk-lib or constructs, directly or indirectly', (file) => {
  expect(cdkImportChains(file)).toEqual([]);
});

test('the check finds a module that loads aws-cdk-lib', () => {
  expect(cdkImportChains('ecs/task-definition-checks.ts')).toContain('ecs/task-definition-checks.ts');
});
