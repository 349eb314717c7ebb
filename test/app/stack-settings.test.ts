/**
 * The stack's own context keys: `tags` (and the stack's `tags` prop), `stackName`, and
 * `acknowledgeWarnings` for `cdk synth --strict`.
 */
import { App, CfnResource, Stack, TagManager } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { readAppConfig } from '../../lib/app/app-config';
import { buildConvexStorageApp } from '../../lib/app/build-app';
import { ConvexStorageStack } from '../../lib/stack/convex-storage-stack';
import { appContext, testOutdir, unitTestApp } from '../helpers/cdk-app';

function problemsOf(context: Record<string, unknown>): string {
  try {
    readAppConfig(new App({ context, outdir: testOutdir() }), { contextFiles: () => [] });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the context to be rejected');
}

/** Builds the app (no synthesis: the nag packs would dominate the time) and returns its stack. */
function appStack(context: Record<string, unknown>): ConvexStorageStack {
  return buildConvexStorageApp(new App({ context: appContext(context), builtinCloudFormationValidation: false, outdir: testOutdir() })).stack;
}

/** The tags of every resource in the template that takes tags, by logical ID. */
function resourceTags(stack: Stack): Record<string, Record<string, string>> {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties?: Record<string, unknown> }>;
  const tagged = stack.node.findAll().filter((c): c is CfnResource & IConstruct => CfnResource.isCfnResource(c) && TagManager.isTaggable(c));
  expect(tagged.length).toBeGreaterThan(5);
  return Object.fromEntries(tagged.map((resource) => {
    const logicalId = stack.resolve(resource.logicalId) as string;
    // The L1 attribute (`tags`) is the template property in PascalCase (`Tags`).
    const attribute = (resource as unknown as { tags: TagManager }).tags.tagPropertyName;
    const rendered = resources[logicalId]?.Properties?.[attribute[0].toUpperCase() + attribute.slice(1)];
    const pairs = Array.isArray(rendered)
      ? (rendered as Array<{ Key: string; Value: string }>).map((t) => [t.Key, t.Value])
      : Object.entries((rendered ?? {}) as Record<string, string>);
    return [logicalId, Object.fromEntries(pairs)];
  }));
}

describe('tags', () => {
  test('every resource that takes tags carries the context tags and application=convex, and so does the stack', () => {
    const stack = appStack({ ecs: 'true', encryption: 'kms', tags: 'team=storage, cost-center=42', acknowledgeWarnings: 'cdk-convex-storage:local-origins' });
    const tags = resourceTags(stack);
    for (const [logicalId, resource] of Object.entries(tags)) {
      expect({ logicalId, ...resource }).toMatchObject({ logicalId, application: 'convex', team: 'storage', 'cost-center': '42' });
    }
    expect(stack.tags.tagValues()).toEqual({ application: 'convex', team: 'storage', 'cost-center': '42' });
  });

  test('without the key only application=convex, which a tag of that name replaces; cdk.json takes a JSON object', () => {
    const plain = resourceTags(appStack({}));
    expect(new Set(Object.values(plain).map((t) => JSON.stringify(t)))).toEqual(new Set([JSON.stringify({ application: 'convex' })]));
    expect(readAppConfig(new App({ context: { tags: { application: 'billing', 'Owner Name': 'Ana María' } }, outdir: testOutdir() })).tags)
      .toEqual({ application: 'billing', 'Owner Name': 'Ana María' });
    expect(readAppConfig(new App({ context: { tags: ' {"owner": "team=storage"}' }, outdir: testOutdir() })).tags).toEqual({ owner: 'team=storage' });
  });

  test.each([
    [{ tags: 'team' }, "tags: 'team' in 'team' is not key=value; expected key=value,key2=value2"],
    [{ tags: 'a=1,a=2' }, "tags: the tag 'a' is given twice in 'a=1,a=2'."],
    [{ tags: '{"a": ' }, "tags: '{\"a\": ' is not valid JSON"],
    [{ tags: ['a=1'] }, 'tags: ["a=1"] is not valid; expected a JSON object of tag names to values'],
    [{ tags: { team: 42 } }, "tags: the value of tag 'team' is 42; tag values are strings (write \"42\")."],
    [{ tags: 'aws:owner=me' }, "tags: the tag key 'aws:owner' starts with 'aws:', which AWS reserves for its own tags."],
    [{ tags: 'team=a;b' }, "tags: the value of tag 'team' ('a;b') has characters AWS does not accept"],
    [{ tags: `${'k'.repeat(129)}=v` }, 'has 129 characters; AWS accepts 1 to 128.'],
    [{ tags: `k=${'v'.repeat(257)}` }, "the value of tag 'k' has 257 characters; AWS accepts at most 256."],
    [{ tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, 'x'])) }, "tags has 50 tags; AWS allows 50 per resource, and 'application' is one of them."],
  ])('%j is rejected', (context, message) => {
    expect(problemsOf(context)).toContain(message);
  });

  test('the stack prop is checked by the same rules', () => {
    expect(() => new ConvexStorageStack(unitTestApp(), 'Tagged', { tags: { 'aws:x': 'y', ok: 'a|b' } })).toThrow(
      "Invalid ConvexStorageStack properties at Tagged:\n  - tags: the tag key 'aws:x' starts with 'aws:', which AWS reserves for its own tags.\n  - tags: the value of tag 'ok' ('a|b') has characters AWS does not accept",
    );
    const stack = new ConvexStorageStack(unitTestApp(), 'Tagged', { tags: { team: 'storage' } });
    expect(new Set(Object.values(resourceTags(stack)).map((t) => JSON.stringify(t)))).toEqual(new Set([JSON.stringify({ application: 'convex', team: 'storage' })]));
  });
});

describe('stackName', () => {
  test('replaces ConvexStorage-<stage> as the stack name and id', () => {
    const stack = appStack({ stackName: 'Acme-Convex-Prod', stage: 'prod' });
    expect(stack.stackName).toBe('Acme-Convex-Prod');
    expect(stack.node.id).toBe('Acme-Convex-Prod');
    expect(readAppConfig(new App({ context: { stage: 'prod' }, outdir: testOutdir() })).stackName).toBe('ConvexStorage-prod');
  });

  test.each(['1stack', 'acme_convex', 'acme.convex', `a${'b'.repeat(128)}`, ''])('%j is rejected with CloudFormation\'s rule', (name) => {
    expect(problemsOf({ stackName: name })).toContain(`stackName: '${name}' is not valid; a CloudFormation stack name is a letter followed by letters, digits or hyphens, at most 128 characters.`);
  });
});

describe('acknowledgeWarnings', () => {
  /** The warnings a synthesis would write into the assembly: what `cdk synth --strict` fails on. */
  const warningsOf = (stack: Stack) => stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data)));
  // No origins and an ephemeral database: two of our warnings.
  const noisy = { ecs: 'true', ephemeralData: 'true' };

  test('without it our warnings are there (the control)', () => {
    const warnings = warningsOf(appStack(noisy));
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringContaining('[ack: cdk-convex-storage:local-origins]'),
      expect.stringContaining('[ack: cdk-convex-storage:ephemeral-data]'),
    ]));
  });

  test.each([
    ['a list with -c', 'cdk-convex-storage:local-origins, Annotation::cdk-convex-storage:ephemeral-data'],
    ['a JSON array with -c', '["cdk-convex-storage:local-origins", "cdk-convex-storage:ephemeral-data"]'],
    ['an object of reasons in cdk.json', { 'cdk-convex-storage:local-origins': 'the load balancer comes next', 'cdk-convex-storage:ephemeral-data': 'a demo' }],
  ])('given as %s, the warnings are acknowledged and only those', (_form, value) => {
    const stack = appStack({ ...noisy, acknowledgeWarnings: value });
    expect(warningsOf(stack).filter((w) => w.includes('cdk-convex-storage:'))).toEqual([]);
    const one = appStack({ ...noisy, acknowledgeWarnings: 'cdk-convex-storage:local-origins' });
    expect(warningsOf(one)).toEqual([expect.stringContaining('[ack: cdk-convex-storage:ephemeral-data]')]);
  });

  test.each([
    ['local-origins', "acknowledgeWarnings: \"local-origins\" is not a warning id; ids are printed with each warning, e.g. 'cdk-convex-storage:local-origins' (or '@aws-cdk/<module>:<name>' for aws-cdk-lib's). Did you mean 'cdk-convex-storage:local-origins'?"],
    [[42], 'acknowledgeWarnings: 42 is not a warning id'],
    [{ 'cdk-convex-storage:local-origins': true }, "acknowledgeWarnings: the reason for 'cdk-convex-storage:local-origins' is true; expected a string."],
    ['[oops', "acknowledgeWarnings: '[oops' is not valid JSON"],
  ])('%j is rejected', (value, message) => {
    expect(problemsOf({ acknowledgeWarnings: value })).toContain(message);
  });

  test('aws-cdk-lib\'s own warning ids are accepted too', () => {
    expect(readAppConfig(new App({ context: { acknowledgeWarnings: '@aws-cdk/aws-ecs:minHealthyPercent' }, outdir: testOutdir() })).acknowledgedWarnings)
      .toEqual([{ id: '@aws-cdk/aws-ecs:minHealthyPercent' }]);
  });
});
