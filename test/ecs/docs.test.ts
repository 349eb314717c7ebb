/**
 * The ECS constructs' API docs: every optional property says what happens without it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ECS_DIR = join(__dirname, '..', '..', 'lib', 'ecs');

/** `file: name` of each optional interface property whose doc comment has no `@default`. */
function undocumentedDefaults(source: string, file: string): string[] {
  const missing: string[] = [];
  for (const [, doc, name] of source.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)?\s*\n\s*readonly (\w+)\?:/g)) {
    if (!doc?.includes('@default')) missing.push(`${file}: ${name}`);
  }
  return missing;
}

test('every optional property in lib/ecs documents its @default', () => {
  const files = readdirSync(ECS_DIR).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(5);
  expect(files.flatMap((f) => undocumentedDefaults(readFileSync(join(ECS_DIR, f), 'utf8'), f))).toEqual([]);
});

test('the check finds a property without @default', () => {
  const source = 'interface P {\n  /** Documented. */\n  readonly a?: string;\n  /**\n   * Yes.\n   *\n   * @default 1\n   */\n  readonly b?: number;\n  readonly c?: string;\n}';
  expect(undocumentedDefaults(source, 'x.ts')).toEqual(['x.ts: a', 'x.ts: c']);
});
