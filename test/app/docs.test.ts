/**
 * The library's API docs: every optional property of the constructs' props says what happens
 * without it. The CLI's internal option types are not public API and are left out.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const LIB = join(__dirname, '..', '..', 'lib');
const PUBLIC_DIRS = ['.', 'storage', 'access', 'ecs', 'ecs/entrypoint', 'iam', 'stack', 'admin-key', 'database', 'backups', 'service'];

/** `file: name` of each optional interface property whose doc comment has no `@default`. */
function undocumentedDefaults(source: string, file: string): string[] {
  const missing: string[] = [];
  for (const [, doc, name] of source.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)?\s*\n\s*readonly (\w+)\?:/g)) {
    if (!doc?.includes('@default')) missing.push(`${file}: ${name}`);
  }
  return missing;
}

test('every optional property of the library documents its @default', () => {
  const files = PUBLIC_DIRS.flatMap((dir) => readdirSync(join(LIB, dir)).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)));
  expect(files.length).toBeGreaterThan(20);
  expect(files.flatMap((f) => undocumentedDefaults(readFileSync(join(LIB, f), 'utf8'), f))).toEqual([]);
});

test('the check finds a property without @default', () => {
  const source = 'interface P {\n  /** Documented. */\n  readonly a?: string;\n  /**\n   * Yes.\n   *\n   * @default 1\n   */\n  readonly b?: number;\n  readonly c?: string;\n}';
  expect(undocumentedDefaults(source, 'x.ts')).toEqual(['x.ts: a', 'x.ts: c']);
});
