/**
 * An upgrade never replaces data: for every variant, the data-bearing resources (those the
 * CloudFormation resource specification marks stateful: buckets, keys, file systems, secrets,
 * databases, log groups) are compared with the committed baseline of the last release. The test
 * fails when one disappears (a renamed logical ID is a new, empty resource), changes type, changes
 * a property whose update requires replacement according to the specification, or stops being
 * retained.
 *
 * Regenerate the baselines (after reviewing that the change is safe, or for a new variant):
 *   UPDATE_UPGRADE_BASELINES=true npx jest test/security/upgrade-safety.test.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isStateful, replacingProperties } from '../helpers/resource-spec';
import { VARIANT_NAMES, VariantName, synthesizedVariant } from '../helpers/variants';

const BASELINE_DIR = join(__dirname, 'upgrade-baselines');
const UPDATE = process.env.UPDATE_UPGRADE_BASELINES === 'true';

interface DataResource {
  readonly type: string;
  readonly deletionPolicy?: string;
  readonly updateReplacePolicy?: string;
  /** The values of the properties whose change replaces the resource (absent ones omitted). */
  readonly replacingProperties: Record<string, unknown>;
}

function dataResources(name: VariantName): Record<string, DataResource> {
  const resources = synthesizedVariant(name).templateJson.Resources as Record<string, any>;
  return Object.fromEntries(Object.entries(resources).filter(([, r]) => isStateful(r.Type)).sort(([a], [b]) => a.localeCompare(b)).map(([id, r]) => [id, {
    type: r.Type,
    deletionPolicy: r.DeletionPolicy,
    updateReplacePolicy: r.UpdateReplacePolicy,
    replacingProperties: Object.fromEntries(replacingProperties(r.Type).filter((p) => r.Properties?.[p] !== undefined).map((p) => [p, r.Properties[p]])),
  }]));
}

/** Every way `current` would lose data that `baseline` holds, in words. */
export function upgradeProblems(baseline: Record<string, DataResource>, current: Record<string, DataResource>): string[] {
  const problems: string[] = [];
  for (const [id, before] of Object.entries(baseline)) {
    const after = current[id];
    if (!after) {
      problems.push(`${id} (${before.type}) is gone: a deployed stack would delete or orphan it and create nothing in its place (never rename a logical ID)`);
      continue;
    }
    if (after.type !== before.type) problems.push(`${id} changed type from ${before.type} to ${after.type}`);
    for (const property of new Set([...Object.keys(before.replacingProperties), ...Object.keys(after.replacingProperties)])) {
      const [was, is] = [before.replacingProperties[property], after.replacingProperties[property]];
      if (JSON.stringify(was) !== JSON.stringify(is)) {
        problems.push(`${id}.${property} changed from ${JSON.stringify(was)} to ${JSON.stringify(is)}: an update of ${property} replaces the ${before.type} (CloudFormation resource specification)`);
      }
    }
    for (const policy of ['deletionPolicy', 'updateReplacePolicy'] as const) {
      if (before[policy] === 'Retain' && after[policy] !== 'Retain') problems.push(`${id} is no longer retained (${policy} ${after[policy] ?? 'Delete'})`);
    }
  }
  return problems;
}

describe.each(VARIANT_NAMES)('the %s variant', (name) => {
  const file = join(BASELINE_DIR, `${name}.json`);

  test('keeps every data-bearing resource of its baseline, with no replacing change', () => {
    const current = dataResources(name);
    if (UPDATE) {
      writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
      return;
    }
    if (!existsSync(file)) throw new Error(`No upgrade baseline for the ${name} variant: run UPDATE_UPGRADE_BASELINES=true npx jest test/security/upgrade-safety.test.ts and commit ${file}`);
    expect(upgradeProblems(JSON.parse(readFileSync(file, 'utf8')), current)).toEqual([]);
  });
});

test('the comparison is live: a renamed bucket, a changed name, object lock switched on and a deletable key each fail', () => {
  const baseline = dataResources('kms');
  const current: Record<string, DataResource> = structuredClone(baseline);
  const bucketId = Object.keys(current).find((id) => id.startsWith('StorageFilesBucket'))!;
  const keyId = Object.keys(current).find((id) => current[id].type === 'AWS::KMS::Key')!;
  const exportsId = Object.keys(current).find((id) => id.startsWith('StorageExportsBucket'))!;
  current[`${bucketId}Renamed`] = current[bucketId];
  delete current[bucketId];
  current[exportsId] = { ...current[exportsId], replacingProperties: { ...current[exportsId].replacingProperties, ObjectLockEnabled: true } };
  current[keyId] = { ...current[keyId], deletionPolicy: 'Delete' };
  const problems = upgradeProblems(baseline, current);
  expect(problems).toEqual(expect.arrayContaining([
    expect.stringContaining(`${keyId} is no longer retained`),
    expect.stringContaining(`${exportsId}.ObjectLockEnabled changed from undefined to true: an update of ObjectLockEnabled replaces the AWS::S3::Bucket`),
    expect.stringContaining(`${bucketId} (AWS::S3::Bucket) is gone`),
  ]));
  expect(problems).toHaveLength(3);
  // The specification, not a list of ours, says what replaces.
  expect(replacingProperties('AWS::S3::Bucket')).toEqual(expect.arrayContaining(['BucketName', 'ObjectLockEnabled']));
  expect(replacingProperties('AWS::EFS::FileSystem')).toEqual(expect.arrayContaining(['Encrypted', 'KmsKeyId']));
});
