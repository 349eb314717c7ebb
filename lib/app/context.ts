/**
 * Typed readers for CDK context values (`cdk.json` or `cdk synth -c key=value`).
 *
 * Values given with `-c` always arrive as strings, values from `cdk.json` keep their JSON type,
 * so every reader accepts both. A reader never throws: it records a problem that names the key
 * and the accepted values, so the app can report every bad value at once.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { IConstruct } from 'constructs';

/**
 * The CDK's own context keys that have no `:` or `@` in their name. `cdk acknowledge <id>` writes
 * `acknowledged-issue-numbers` and `cdk cli-telemetry --enable/--disable` writes `cli-telemetry`
 * into cdk.context.json, and the CLI passes both to the app with the rest of the context. Every
 * other key of the CDK has one: feature flags (`@aws-cdk/...`), its settings (`aws:cdk:...`,
 * `aws-cdk:...`) and lookup caches (`availability-zones:account=...:region=...`). The test
 * test/app/cdk-context-keys.test.ts reads the keys the installed CLI sets, so a new one shows up.
 */
export const CDK_CONTEXT_KEYS_WITHOUT_SEPARATOR: readonly string[] = ['acknowledged-issue-numbers', 'cli-telemetry'];

/** Whether `key` belongs to the CDK itself (CLI, toolkit or aws-cdk-lib), not to this app. */
export function isCdkContextKey(key: string): boolean {
  return key.includes(':') || key.includes('@') || CDK_CONTEXT_KEYS_WITHOUT_SEPARATOR.includes(key);
}

/** A file the CDK CLI reads context from, with the keys it sets there. */
export interface ContextFile {
  /** How the file is named in messages: `cdk.context.json`, `cdk.json`, `~/.cdk.json`. */
  readonly name: string;
  readonly keys: readonly string[];
}

/**
 * The files the CDK CLI merges the app's context from: `cdk.context.json` (what the CLI itself
 * writes: lookups, `cdk acknowledge`), the `context` of `cdk.json`, both in the app's directory,
 * and the `context` of `~/.cdk.json`. The app gets the merged context with no record of where a
 * key came from (CDK_CONTEXT_JSON), so it reads the files again to say so. A file that is missing
 * or not JSON sets nothing (the CLI reports a broken one itself).
 */
export function cdkContextFiles(directory: string = process.cwd(), home: string = homedir()): ContextFile[] {
  const files: Array<{ name: string; path: string; context: (json: Record<string, unknown>) => unknown }> = [
    { name: 'cdk.context.json', path: join(directory, 'cdk.context.json'), context: (json) => json },
    { name: 'cdk.json', path: join(directory, 'cdk.json'), context: (json) => json.context },
    { name: '~/.cdk.json', path: join(home, '.cdk.json'), context: (json) => json.context },
  ];
  return files.flatMap(({ name, path, context }) => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return [];
    }
    const bag = json !== null && typeof json === 'object' ? context(json as Record<string, unknown>) : undefined;
    return bag !== null && typeof bag === 'object' ? [{ name, keys: Object.keys(bag) }] : [];
  });
}

/** Options of {@link ContextReader}. */
export interface ContextReaderOptions {
  /**
   * The files context may come from, read only when a key must be attributed to one.
   *
   * @default - cdkContextFiles() of the working directory and the home directory
   */
  readonly contextFiles?: () => readonly ContextFile[];
}

/** Collects the problems found while reading context. */
export class ContextReader {
  private readonly problems: string[] = [];
  private files?: readonly ContextFile[];

  constructor(private readonly scope: IConstruct, private readonly options: ContextReaderOptions = {}) {}

  /** The raw value, or undefined when the key is not set. */
  public raw(key: string): unknown {
    return this.scope.node.tryGetContext(key);
  }

  /** A string value that must match `pattern`, described by `rule`. */
  public string(key: string, options: { pattern?: RegExp; rule?: string } = {}): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0 || (options.pattern && !options.pattern.test(value))) {
      this.problems.push(`${key}: '${String(value)}' is not valid; ${options.rule ?? 'expected a non-empty string'}.`);
      return undefined;
    }
    return value;
  }

  /** One of a fixed set of values. */
  public oneOf<T extends string>(key: string, accepted: readonly T[]): T | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(accepted as readonly string[]).includes(value)) {
      this.problems.push(`${key}: '${String(value)}' is not valid; accepted values are ${accepted.map((a) => `'${a}'`).join(', ')}.`);
      return undefined;
    }
    return value as T;
  }

  /** A whole number, at least `min`. */
  public integer(key: string, min = 1): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const parsed = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(parsed) || parsed < min) {
      this.problems.push(`${key}: '${String(value)}' is not valid; expected a whole number, ${min} or more.`);
      return undefined;
    }
    return parsed;
  }

  /** A boolean: `true`/`false` in cdk.json, or the strings `true`/`false` with `-c`. */
  public boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.problems.push(`${key}: '${String(value)}' is not valid; accepted values are 'true', 'false'.`);
    return undefined;
  }

  /**
   * A list of strings: a JSON array of strings in cdk.json, or a comma-separated string with `-c`
   * (`-c key=a,b`). Blanks around the commas are dropped.
   */
  public stringList(key: string, what = 'values'): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const items = typeof value === 'string' ? value.split(',').map((item) => item.trim())
      : Array.isArray(value) ? value.map((item) => (typeof item === 'string' ? item.trim() : item)) : undefined;
    if (items === undefined || items.length === 0 || items.some((item) => typeof item !== 'string' || item.length === 0)) {
      this.problems.push(`${key}: '${typeof value === 'string' ? value : JSON.stringify(value)}' is not valid; expected ${what} separated by commas (-c ${key}=a,b) or a JSON array of strings in cdk.json.`);
      return undefined;
    }
    return items as string[];
  }

  /**
   * Records a problem for every context key the app does not read, with the nearest known key
   * and where the key was set: a misspelt `-c encrytion=kms` must not synthesize SSE-S3 buckets
   * in silence. The CDK's own keys ({@link isCdkContextKey}) are never rejected.
   */
  public rejectUnknownKeys(known: readonly string[]): void {
    for (const key of Object.keys(this.scope.node.getAllContext())) {
      if (isCdkContextKey(key) || known.includes(key)) continue;
      const nearest = [...known].sort((a, b) => editDistance(key.toLowerCase(), a.toLowerCase()) - editDistance(key.toLowerCase(), b.toLowerCase()))[0];
      const hint = nearest !== undefined && editDistance(key.toLowerCase(), nearest.toLowerCase()) <= 3 ? ` Did you mean '${nearest}'?` : '';
      const files = this.contextFiles().filter((file) => file.keys.includes(key)).map((file) => file.name);
      const where = files.length > 0 ? `set in ${files.join(' and ')}` : 'given on the command line with -c';
      const fix = files.length > 0 ? ` Remove it from ${files.join(' and ')} or rename it.` : '';
      this.problems.push(`${key} (${where}): not a context key of this app.${hint} The keys are ${known.map((k) => `'${k}'`).join(', ')}.${fix}`);
    }
  }

  private contextFiles(): readonly ContextFile[] {
    this.files ??= (this.options.contextFiles ?? (() => cdkContextFiles()))();
    return this.files;
  }

  /** Records a problem found by the caller. */
  public addProblem(problem: string): void {
    this.problems.push(problem);
  }

  /** Throws once, listing every problem, if any was found. */
  public throwIfInvalid(): void {
    if (this.problems.length > 0) {
      throw new Error(`Invalid CDK context (set with -c key=value or in cdk.json):\n${this.problems.map((p) => `  - ${p}`).join('\n')}`);
    }
  }
}

/** Levenshtein distance, for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length];
}
