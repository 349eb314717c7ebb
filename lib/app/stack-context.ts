/**
 * The app's context keys for the stack itself: its name, its tags, and the synth warnings the
 * user has acknowledged.
 */
import type { ContextKeyDoc } from './app-config';
import { ContextReader } from './context';
import { APPLICATION_TAG, tagProblems } from '../stack/stack-tags';

/** The stack's context keys, with defaults; the README documents each one. */
export const STACK_CONTEXT_KEYS: readonly ContextKeyDoc[] = [
  { key: 'stackName', default: 'ConvexStorage-<stage>', description: 'Name of the CloudFormation stack (and the id `cdk deploy` takes): a letter, then letters, digits and hyphens, at most 128 characters. Set it once; a new name is a new stack with new buckets.' },
  { key: 'tags', default: `(only ${APPLICATION_TAG.key}=${APPLICATION_TAG.value})`, description: `Tags of the stack and of every resource in it, besides \`${APPLICATION_TAG.key}=${APPLICATION_TAG.value}\` (which a tag of that key replaces). A JSON object in \`cdk.json\` (\`{"team": "storage"}\`), or \`key=value,key2=value2\` (or the same JSON) with \`-c\`. AWS's rules apply: keys of 1 to 128 characters, not starting with \`aws:\`, values of at most 256, letters, digits, spaces and \`_ . : / = + - @\`.` },
  { key: 'acknowledgeWarnings', default: '(none)', description: 'Synth warnings to acknowledge, for `cdk synth --strict`: their ids as printed with each warning (`cdk-convex-storage:local-origins`, or aws-cdk-lib\'s `@aws-cdk/...`). A JSON object of id to reason in `cdk.json` (`{"cdk-convex-storage:local-origins": "origins come with the load balancer"}`), a JSON array, or `id,id2` with `-c`.' },
];

/** What the stack's context keys set. */
export interface StackSettings {
  /** The stack name given with `stackName`, if any. */
  readonly stackName?: string;
  /** The tags given with `tags`, if any. */
  readonly tags?: Record<string, string>;
  /** The warnings to acknowledge, each with the user's reason when given. */
  readonly acknowledgedWarnings: ReadonlyArray<{ readonly id: string; readonly reason?: string }>;
}

/** CloudFormation's rule for stack names. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** A warning id: ours, or one of aws-cdk-lib's (`@aws-cdk/<module>:<name>`). */
const WARNING_ID = /^(cdk-convex-storage:[a-z0-9]+(-[a-z0-9]+)*|@aws-cdk\/[A-Za-z0-9-]+:[A-Za-z0-9-]+)$/;

/** The prefix the validation report prints before a warning id ("Acknowledge with 'Annotation::<id>'"). */
const REPORT_PREFIX = 'Annotation::';

/** Reads `stackName`, `tags` and `acknowledgeWarnings`; problems go to `context`. */
export function readStackSettings(context: ContextReader): StackSettings {
  const stackName = context.string('stackName', {
    pattern: STACK_NAME,
    rule: 'a CloudFormation stack name is a letter followed by letters, digits or hyphens, at most 128 characters',
  });
  return { stackName, tags: readTags(context), acknowledgedWarnings: readAcknowledgedWarnings(context) };
}

function readTags(context: ContextReader): Record<string, string> | undefined {
  const raw = context.raw('tags');
  if (raw === undefined) return undefined;
  const parsed = typeof raw === 'string' ? parseTagString(raw) : raw;
  if (typeof parsed === 'string') {
    context.addProblem(`tags: ${parsed}`);
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    context.addProblem(`tags: ${JSON.stringify(raw)} is not valid; expected a JSON object of tag names to values ({"team": "storage"}) or, with -c, key=value,key2=value2.`);
    return undefined;
  }
  const problems = tagProblems('tags', parsed as Record<string, unknown>);
  for (const problem of problems) {
    context.addProblem(problem);
  }
  return problems.length === 0 ? parsed as Record<string, string> : undefined;
}

/** A `-c tags=...` value: JSON when it starts with `{`, else `key=value,key2=value2`; a string is the problem. */
function parseTagString(value: string): unknown {
  const text = value.trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return `'${value}' is not valid JSON (${(error as Error).message}); expected e.g. {"team": "storage"}.`;
    }
  }
  const tags: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const equals = pair.indexOf('=');
    const key = pair.slice(0, equals).trim();
    if (equals < 0 || key.length === 0) {
      return `'${pair.trim()}' in '${value}' is not key=value; expected key=value,key2=value2 or a JSON object.`;
    }
    if (key in tags) {
      return `the tag '${key}' is given twice in '${value}'.`;
    }
    tags[key] = pair.slice(equals + 1).trim();
  }
  return tags;
}

function readAcknowledgedWarnings(context: ContextReader): Array<{ id: string; reason?: string }> {
  const raw = context.raw('acknowledgeWarnings');
  if (raw === undefined) return [];
  let entries: Array<[unknown, unknown]>;
  if (typeof raw === 'string') {
    const text = raw.trim();
    let parsed: unknown = undefined;
    if (text.startsWith('[') || text.startsWith('{')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        context.addProblem(`acknowledgeWarnings: '${raw}' is not valid JSON; expected a JSON array or object of warning ids, or id,id2.`);
        return [];
      }
    }
    entries = parsed === undefined ? text.split(',').map((id) => [id.trim(), undefined]) : entriesOf(parsed);
  } else {
    entries = entriesOf(raw);
  }
  const warnings: Array<{ id: string; reason?: string }> = [];
  for (const [id, reason] of entries) {
    const bare = typeof id === 'string' && id.startsWith(REPORT_PREFIX) ? id.slice(REPORT_PREFIX.length) : id;
    if (typeof bare !== 'string' || !WARNING_ID.test(bare)) {
      const hint = typeof bare === 'string' && WARNING_ID.test(`cdk-convex-storage:${bare}`) ? ` Did you mean 'cdk-convex-storage:${bare}'?` : '';
      context.addProblem(`acknowledgeWarnings: ${JSON.stringify(id)} is not a warning id; ids are printed with each warning, e.g. 'cdk-convex-storage:local-origins' (or '@aws-cdk/<module>:<name>' for aws-cdk-lib's).${hint}`);
      continue;
    }
    if (reason !== undefined && typeof reason !== 'string') {
      context.addProblem(`acknowledgeWarnings: the reason for '${bare}' is ${JSON.stringify(reason)}; expected a string.`);
      continue;
    }
    warnings.push(reason === undefined ? { id: bare } : { id: bare, reason });
  }
  return warnings;
}

/** An array of ids, or an object of id to reason, as [id, reason] pairs; anything else, one bad pair. */
function entriesOf(value: unknown): Array<[unknown, unknown]> {
  if (Array.isArray(value)) return value.map((id) => [id, undefined]);
  if (value !== null && typeof value === 'object') return Object.entries(value);
  return [[value, undefined]];
}
