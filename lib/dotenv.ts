/**
 * The `.env` format the Convex self-hosting docs use, written and read back.
 *
 * The file is meant for docker compose (`.env` next to `docker-compose.yml`, or `env_file:`),
 * which strips the quotes. Values are single-quoted (`KEY='value'`) like the upstream docs;
 * strict booleans stay bare (`AWS_S3_DISABLE_SSE=true`), as in those docs, so even a reader
 * that keeps quotes cannot turn `true` into the `'true'` the backend would read as false.
 * `docker run --env-file` keeps every quote literally: do not feed it this file.
 *
 * No aws-cdk-lib import: the CLI shares this module.
 */
import { STRICT_BOOLEAN_VARS } from './backend-env';

const STRICT_BOOLEANS: ReadonlySet<string> = new Set(Object.values(STRICT_BOOLEAN_VARS));
const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One `KEY=value` assignment, or a comment line when `key` is undefined. */
export interface DotEnvEntry {
  readonly key: string;
  readonly value: string;
  /**
   * Comment written on the line above.
   *
   * @default - no comment
   */
  readonly comment?: string;
}

/** Formats one assignment as a `.env` line. */
export function formatDotEnvLine(key: string, value: string): string {
  if (!KEY_PATTERN.test(key)) {
    throw new Error(`'${key}' is not a valid environment variable name`);
  }
  if (/[\r\n]/.test(value)) {
    throw new Error(`The value of ${key} spans several lines, which a .env file cannot hold`);
  }
  if (STRICT_BOOLEANS.has(key) && (value === 'true' || value === 'false')) {
    return `${key}=${value}`;
  }
  if (value.includes("'")) {
    // A single-quoted .env value has no escape for a quote; double quotes do.
    return `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  }
  return `${key}='${value}'`;
}

/** Formats a whole `.env` block, one assignment per line, with optional comments. */
export function renderDotEnv(entries: readonly DotEnvEntry[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    if (entry.comment !== undefined) {
      lines.push(...entry.comment.split('\n').map((line) => `# ${line}`));
    }
    lines.push(formatDotEnvLine(entry.key, entry.value));
  }
  return lines.join('\n') + '\n';
}

/** One parsed line of a `.env` file, kept so a merge can write it back untouched. */
export interface DotEnvLine {
  /** The line exactly as read, without its line break. */
  readonly raw: string;
  /**
   * The variable assigned on this line.
   *
   * @default - none: a comment, a blank line or anything else that assigns nothing
   */
  readonly key?: string;
  /**
   * The unquoted value.
   *
   * @default - none, when the line assigns nothing
   */
  readonly value?: string;
}

/**
 * Parses a `.env` file the way docker compose reads it: `KEY=value`, `KEY='value'`,
 * `KEY="value"`, an optional `export ` prefix, `#` comments and blank lines.
 */
export function parseDotEnvLines(text: string): DotEnvLine[] {
  const rawLines = text.split(/\r?\n/);
  if (rawLines.length > 0 && rawLines[rawLines.length - 1] === '') {
    rawLines.pop();
  }
  return rawLines.map((raw) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(raw);
    if (!match) {
      return { raw };
    }
    return { raw, key: match[1], value: parseValue(match[2]) };
  });
}

/** Parses a `.env` file into a map; a later assignment wins, as in docker compose. */
export function parseDotEnv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of parseDotEnvLines(text)) {
    if (line.key !== undefined && line.value !== undefined) {
      values.set(line.key, line.value);
    }
  }
  return values;
}

/**
 * The value part of an assignment: a quoted value ends at its closing quote (a `# comment` may
 * follow), an unquoted one at the first ` #`.
 */
function parseValue(rest: string): string {
  const value = rest.trim();
  const quote = value[0];
  if (quote === "'") {
    const close = value.indexOf("'", 1);
    if (close > 0) return value.slice(1, close);
  } else if (quote === '"') {
    const close = /^"((?:[^"\\]|\\.)*)"/.exec(value);
    if (close) return close[1].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  const hash = value.search(/\s#/);
  return hash >= 0 ? value.slice(0, hash).trimEnd() : value;
}

/** What {@link mergeDotEnv} did, for the caller to report. */
export interface DotEnvMergeResult {
  /** The new file contents. */
  readonly text: string;
  /** Keys whose existing line was rewritten in place. */
  readonly replaced: readonly string[];
  /** Keys that were not in the file and were appended at its end. */
  readonly appended: readonly string[];
  /** Keys whose lines were removed (asked for, or later duplicates that would win). */
  readonly removed: readonly string[];
}

/**
 * Merges assignments into the text of an existing `.env` file.
 *
 * Every line that does not assign one of the given keys (other variables, comments, blank
 * lines) is kept exactly as it was, in place. A key that is already assigned is rewritten on
 * its first line (keeping an `export ` prefix), unless that line already holds the same value
 * (whatever its quoting): then it is kept as written and not counted as replaced; later assignments of the same key are dropped,
 * because docker compose lets the last one win and it would silently undo the merge. New keys
 * are appended at the end, after `header` (a comment) when given. Keys in `remove` are dropped
 * wherever they appear. The file's line ending style (LF or CRLF) is kept.
 */
export function mergeDotEnv(
  existing: string,
  set: readonly DotEnvEntry[],
  remove: readonly string[] = [],
  header?: string,
): DotEnvMergeResult {
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  const wanted = new Map(set.map((entry) => [entry.key, entry.value]));
  const removeSet = new Set(remove.filter((key) => !wanted.has(key)));
  const written = new Set<string>();
  const replaced: string[] = [];
  const removed: string[] = [];
  const out: string[] = [];

  for (const line of parseDotEnvLines(existing)) {
    const key = line.key;
    if (key === undefined) {
      out.push(line.raw);
    } else if (removeSet.has(key)) {
      removed.push(key);
    } else if (wanted.has(key)) {
      if (written.has(key)) {
        removed.push(key);
        continue;
      }
      if (line.value === wanted.get(key)) {
        // Same value, perhaps quoted differently: the line stays as written, and nothing is
        // reported as updated.
        out.push(line.raw);
        written.add(key);
        continue;
      }
      const prefix = /^\s*export\s+/.exec(line.raw)?.[0] ?? '';
      out.push(prefix + formatDotEnvLine(key, wanted.get(key) as string));
      written.add(key);
      replaced.push(key);
    } else {
      out.push(line.raw);
    }
  }

  const appendedEntries = set.filter((entry) => !written.has(entry.key));
  if (appendedEntries.length > 0) {
    if (out.length > 0 && out[out.length - 1].trim() !== '') {
      out.push('');
    }
    if (header !== undefined) {
      out.push(...header.split('\n').map((line) => `# ${line}`));
    }
    out.push(...renderDotEnv(appendedEntries).replace(/\n$/, '').split('\n'));
  }
  return {
    text: out.length > 0 ? out.join(eol) + eol : '',
    replaced,
    appended: appendedEntries.map((entry) => entry.key),
    removed,
  };
}

/**
 * A line of a `.env` file that its loader reads differently from what it seems to say, or not
 * at all.
 */
export interface DotEnvProblem {
  /** 1-based number of the line the problem starts on. */
  readonly line: number;
  /** `error`: the loader refuses the file or drops the line; `warning`: it reads it, surprisingly. */
  readonly level: 'error' | 'warning';
  /**
   * The variable the line assigns.
   *
   * @default - none: the line names no variable
   */
  readonly key?: string;
  readonly message: string;
}

/** What {@link readDotEnv} found: the values the loader would see, and the lines it would not read as written. */
export interface DotEnvReading {
  readonly values: Map<string, string>;
  readonly problems: readonly DotEnvProblem[];
}

/** Compose accepts `.` and `-` in names; the backend reads none such, but they are not errors. */
const LOADER_KEY = '[A-Za-z_][A-Za-z0-9_.-]*';
const ASSIGNMENT = new RegExp(`^\\s*(?:export\\s+)?(${LOADER_KEY})\\s*=(.*)$`);
const YAML_ASSIGNMENT = new RegExp(`^\\s*(?:export\\s+)?(${LOADER_KEY})\\s*:(.*)$`);
const BARE_KEY = new RegExp(`^\\s*(?:export\\s+)?(${LOADER_KEY})\\s*$`);
const LOOKS_LIKE_ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/;

/** A line as quoted in a message: short, and without the value when the line may hold a secret. */
function shown(raw: string): string {
  const text = raw.trim();
  if (/SECRET|TOKEN|PASSWORD|_URL\b|_KEY\b/i.test(text)) {
    return `'${(/^[^=\s:'"]*/.exec(text)?.[0] ?? '').slice(0, 40)}...' (value not shown)`;
  }
  return `'${text.length > 60 ? `${text.slice(0, 57)}...` : text}'`;
}

/** Index of the first `quote` in `text` not escaped by a backslash, or -1. */
function closingQuote(text: string, quote: string, from = 0): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
    } else if (text[i] === quote) {
      return i;
    }
  }
  return -1;
}

/**
 * Reads a `.env` file the way the loader of the backend's `.env` does, and says which lines it
 * would not read as they seem to be written.
 *
 * That loader is docker compose: the Convex backend itself never reads a `.env` file (no
 * `.env` loader in `crates/local_backend`; upstream's `self-hosted/docker/docker-compose.yml`
 * passes each variable from compose's `.env`). Compose's parser (compose-go `dotenv/parser.go`)
 * refuses the whole file on a line it cannot parse, so nothing of it reaches the backend; the
 * Rust `dotenvy` 0.15 parser, used by upstream's Rust client and test harness, stops loading at
 * such a line. They agree on these cases:
 *
 * - a line that is not `KEY=value` (`no equals sign`): an error in both;
 * - `=value`, with no name: dotenvy refuses it, compose sets no variable the backend reads;
 * - a quote that is never closed (`KEY="unterminated`): an error in both ("unterminated quoted
 *   value"). A quote closed on a later line makes a value of several lines, and every line up to
 *   the closing quote belongs to it, assignments included;
 * - a bare `KEY`: compose takes KEY from the environment it runs in, dotenvy refuses it (warning);
 * - `KEY: value`: compose reads it as `KEY=value`, dotenvy refuses it (warning).
 *
 * Values are read as {@link parseDotEnvLines} reads them; a later assignment wins.
 */
export function readDotEnv(text: string): DotEnvReading {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const values = new Map<string, string>();
  const problems: DotEnvProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = i + 1;
    if (raw.trim() === '' || raw.trim().startsWith('#')) {
      continue;
    }
    const assignment = ASSIGNMENT.exec(raw);
    if (!assignment) {
      const yaml = YAML_ASSIGNMENT.exec(raw);
      const bare = BARE_KEY.exec(raw);
      if (raw.trim().startsWith('=')) {
        problems.push({
          line,
          level: 'error',
          message: `line ${line}: ${shown(raw)} assigns no variable: there is no name before '='. Write NAME=value, or remove the line.`,
        });
      } else if (yaml) {
        problems.push({
          line,
          level: 'warning',
          key: yaml[1],
          message:
            `line ${line}: ${shown(raw)} uses ':' instead of '=': docker compose reads it as ${yaml[1]}=..., other loaders ` +
            `(dotenvy, node --env-file) do not. Write ${yaml[1]}=value.`,
        });
        values.set(yaml[1], parseValue(yaml[2]));
      } else if (bare) {
        problems.push({
          line,
          level: 'warning',
          key: bare[1],
          message:
            `line ${line}: '${bare[1]}' has no '=': docker compose then passes ${bare[1]} from the environment it runs in ` +
            `(verify cannot see that value), dotenvy refuses the line. Write ${bare[1]}=value.`,
        });
      } else {
        problems.push({
          line,
          level: 'error',
          message:
            `line ${line}: ${shown(raw)} is not a NAME=value assignment: docker compose refuses the whole file because of it ` +
            '(so the backend gets none of its variables), and dotenvy stops reading there. Fix the line, or make it a comment with #.',
        });
      }
      continue;
    }
    const [, key, rest] = assignment;
    const value = rest.trim();
    const quote = value[0] === "'" || value[0] === '"' ? value[0] : undefined;
    if (quote === undefined || closingQuote(value, quote, 1) > 0) {
      values.set(key, parseValue(rest));
      continue;
    }
    // The quote is not closed on its own line: the loaders read on, up to the closing quote.
    let end = -1;
    for (let j = i + 1; j < lines.length && end < 0; j++) {
      if (closingQuote(lines[j], quote) >= 0) {
        end = j;
      }
    }
    if (end < 0) {
      problems.push({
        line,
        level: 'error',
        key,
        message:
          `line ${line}: the ${quote} that starts ${key}'s value is never closed: docker compose refuses the whole file ` +
          `("unterminated quoted value"), so the backend gets none of its variables, and dotenvy stops reading there. ` +
          `Close the quote: ${key}=${quote}...${quote}.`,
      });
      continue;
    }
    const swallowed = lines.slice(i + 1, end + 1).filter((l) => LOOKS_LIKE_ASSIGNMENT.test(l));
    const joined = [value.slice(1), ...lines.slice(i + 1, end), lines[end].slice(0, closingQuote(lines[end], quote))].join('\n');
    values.set(key, joined);
    problems.push({
      line,
      level: swallowed.length > 0 ? 'error' : 'warning',
      key,
      message:
        `line ${line}: the ${quote} that starts ${key}'s value closes only on line ${end + 1}, so lines ${line}-${end + 1} are one value ` +
        `of several lines` +
        (swallowed.length > 0
          ? `, and the assignments in it (${swallowed.map((l) => /^\s*(?:export\s+)?([^=\s]+)/.exec(l)?.[1]).join(', ')}) are not variables of their own. Close the quote on line ${line}.`
          : '. Close the quote on its own line unless that is what you mean.'),
    });
    i = end;
  }
  return { values, problems };
}
