/**
 * Tags of the deployable stack: AWS's rules for user-defined tags, checked at synth (AWS would
 * reject a bad tag only during deployment, resource by resource).
 */

/** The tag every resource of a `ConvexStorageStack` carries, unless `tags` overrides it. */
export const APPLICATION_TAG = { key: 'application', value: 'convex' } as const;

/** AWS accepts at most 50 user-defined tags on a resource (S3 buckets and IAM roles included). */
export const MAX_TAGS = 50;

/**
 * Letters, digits and spaces of any language and `_ . : / = + - @`: the characters AWS accepts
 * in tag keys and values across services.
 */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Problems with user-defined tags; `setting` names where they were given (e.g. `tags`). */
export function tagProblems(setting: string, tags: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS - 1) {
    problems.push(`${setting} has ${entries.length} tags; AWS allows ${MAX_TAGS} per resource, and '${APPLICATION_TAG.key}' is one of them.`);
  }
  for (const [key, value] of entries) {
    const length = [...key].length;
    if (length < 1 || length > 128) {
      problems.push(`${setting}: the tag key '${key}' has ${length} characters; AWS accepts 1 to 128.`);
    }
    if (!TAG_CHARACTERS.test(key)) {
      problems.push(`${setting}: the tag key '${key}' has characters AWS does not accept; use letters, digits, spaces and _ . : / = + - @.`);
    }
    if (key.toLowerCase().startsWith('aws:')) {
      problems.push(`${setting}: the tag key '${key}' starts with 'aws:', which AWS reserves for its own tags.`);
    }
    if (typeof value !== 'string') {
      problems.push(`${setting}: the value of tag '${key}' is ${JSON.stringify(value)}; tag values are strings (write "${String(value)}").`);
      continue;
    }
    if ([...value].length > 256) {
      problems.push(`${setting}: the value of tag '${key}' has ${[...value].length} characters; AWS accepts at most 256.`);
    }
    if (!TAG_CHARACTERS.test(value)) {
      problems.push(`${setting}: the value of tag '${key}' ('${value}') has characters AWS does not accept; use letters, digits, spaces and _ . : / = + - @.`);
    }
  }
  return problems;
}
