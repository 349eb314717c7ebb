/**
 * Reads the CloudFormation resource specification that aws-cdk-lib is generated from
 * (`@aws-cdk/aws-service-spec`): which resource types hold data (`isStateful`) and which of
 * their properties replace the resource when they change (`causesReplacement`: yes or maybe).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

interface SpecResource {
  readonly cloudFormationType: string;
  readonly isStateful?: boolean;
  readonly properties: Record<string, { readonly causesReplacement?: 'yes' | 'maybe' | 'no' }>;
}

let byType: Map<string, SpecResource> | undefined;
function resources(): Map<string, SpecResource> {
  if (!byType) {
    const db = JSON.parse(gunzipSync(readFileSync(require.resolve('@aws-cdk/aws-service-spec/db.json.gz'))).toString('utf8')) as {
      schema: { resource: { entities: Record<string, SpecResource> } };
    };
    byType = new Map(Object.values(db.schema.resource.entities).map((r) => [r.cloudFormationType, r]));
  }
  return byType;
}

/** Whether the specification marks the type as holding data. */
export function isStateful(type: string): boolean {
  return resources().get(type)?.isStateful === true;
}

/** The top-level properties of `type` whose update requires (or may require) replacement. */
export function replacingProperties(type: string): string[] {
  const resource = resources().get(type);
  if (!resource) throw new Error(`${type} is not in the CloudFormation resource specification`);
  return Object.entries(resource.properties).filter(([, p]) => p.causesReplacement === 'yes' || p.causesReplacement === 'maybe').map(([name]) => name).sort();
}
