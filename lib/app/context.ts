/**
 * Typed readers for CDK context values (`cdk.json` or `cdk synth -c key=value`).
 *
 * Values given with `-c` always arrive as strings, values from `cdk.json` keep their JSON type,
 * so every reader accepts both. A reader never throws: it records a problem that names the key
 * and the accepted values, so the app can report every bad value at once.
 */
import { IConstruct } from 'constructs';

/** Collects the problems found while reading context. */
export class ContextReader {
  private readonly problems: string[] = [];

  constructor(private readonly scope: IConstruct) {}

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
   * Records a problem for every context key the app does not read, with the nearest known key:
   * a misspelt `-c encrytion=kms` must not synthesize SSE-S3 buckets in silence. Keys with `:`
   * or `@` belong to the CDK itself (feature flags, lookups, CLI settings) and are skipped.
   */
  public rejectUnknownKeys(known: readonly string[]): void {
    for (const key of Object.keys(this.scope.node.getAllContext())) {
      if (key.includes(':') || key.includes('@') || known.includes(key)) continue;
      const nearest = [...known].sort((a, b) => editDistance(key, a) - editDistance(key, b))[0];
      const hint = nearest !== undefined && editDistance(key, nearest) <= 3 ? ` Did you mean '${nearest}'?` : '';
      this.problems.push(`${key}: not a context key of this app.${hint} The keys are ${known.map((k) => `'${k}'`).join(', ')}.`);
    }
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
