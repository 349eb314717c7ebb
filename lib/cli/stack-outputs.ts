/**
 * Reading the storage stack's outputs: from `cdk deploy --outputs-file` JSON, or from the
 * deployed stack through CloudFormation; and the access key secret from Secrets Manager.
 */
import { readFileSync } from 'node:fs';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_ACCESS_KEY_ID, AWS_REGION, AWS_SECRET_ACCESS_KEY } from '../backend-env';
import { describeError, errorCode } from './diagnosis';
import { CliError } from './io';

/** Output key -> value of one stack. */
export type StackOutputs = Readonly<Record<string, string>>;

/**
 * Reads one stack's outputs from a `cdk deploy --outputs-file` file
 * (`{ "<StackName>": { "<OutputKey>": "value" } }`). `stack` may be omitted when the file holds
 * exactly one stack.
 */
export function readOutputsFile(path: string, stack: string | undefined): { stack: string; outputs: StackOutputs } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`Cannot read --outputs-file ${path}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`--outputs-file ${path} is not a \`cdk deploy --outputs-file\` file (expected { "<StackName>": { ... } }).`);
  }
  const stacks = parsed as Record<string, unknown>;
  const names = Object.keys(stacks);
  const chosen = stack ?? (names.length === 1 ? names[0] : undefined);
  if (chosen === undefined) {
    throw new CliError(`--outputs-file ${path} holds ${names.length} stacks (${names.join(', ') || 'none'}): pass --stack NAME.`);
  }
  const outputs = stacks[chosen];
  if (outputs === undefined || outputs === null || typeof outputs !== 'object') {
    throw new CliError(`Stack '${chosen}' is not in --outputs-file ${path}; it holds: ${names.join(', ') || 'nothing'}. Check --stack.`);
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs as Record<string, unknown>)) {
    if (typeof value === 'string') {
      values[key] = value;
    }
  }
  return { stack: chosen, outputs: values };
}

/** Reads a deployed stack's outputs with CloudFormation DescribeStacks. */
export async function describeStackOutputs(stack: string, region: string | undefined): Promise<StackOutputs> {
  const client = new CloudFormationClient({ region, maxAttempts: 3 });
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stack }));
    const found = answer.Stacks?.[0];
    if (!found) {
      throw new CliError(`CloudFormation returned no stack named '${stack}'. Check --stack and --region.`);
    }
    const outputs: Record<string, string> = {};
    for (const output of found.Outputs ?? []) {
      if (output.OutputKey && output.OutputValue !== undefined) {
        outputs[output.OutputKey] = output.OutputValue;
      }
    }
    return outputs;
  } catch (err) {
    throw awsError(err, `read stack '${stack}' (cloudformation:DescribeStacks)`, 'Check --stack and --region');
  } finally {
    client.destroy();
  }
}

/** The region of a Secrets Manager ARN (`arn:aws:secretsmanager:<region>:...`). */
export function regionOfArn(arn: string): string | undefined {
  return /^arn:[^:]+:[^:]+:([a-z0-9-]+):/.exec(arn)?.[1];
}

/** The access key pair the storage stack keeps in Secrets Manager (IAM-user mode). */
export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Reads the access key pair from the secret whose SecretString is
 * `{"AWS_ACCESS_KEY_ID": "...", "AWS_SECRET_ACCESS_KEY": "..."}`.
 */
export async function readAccessKeySecret(secretArn: string, fallbackRegion: string | undefined): Promise<AccessKeyPair> {
  const secretString = await readSecretString(secretArn, fallbackRegion, 'the access key secret');
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(secretString ?? '') as Record<string, unknown>;
  } catch {
    throw new CliError(`Secret ${secretArn} does not hold JSON with ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY}.`);
  }
  const accessKeyId = parsed[AWS_ACCESS_KEY_ID];
  const secretAccessKey = parsed[AWS_SECRET_ACCESS_KEY];
  if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || !accessKeyId || !secretAccessKey) {
    throw new CliError(`Secret ${secretArn} lacks ${AWS_ACCESS_KEY_ID} or ${AWS_SECRET_ACCESS_KEY}.`);
  }
  return { accessKeyId, secretAccessKey };
}

/**
 * Reads a secret's SecretString with GetSecretValue, in the secret's own region (from its ARN).
 * `what` names the secret in error messages ("the instance secret").
 */
export async function readSecretString(secretArn: string, fallbackRegion: string | undefined, what: string): Promise<string | undefined> {
  const client = new SecretsManagerClient({ region: regionOfArn(secretArn) ?? fallbackRegion, maxAttempts: 3 });
  try {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    return answer.SecretString;
  } catch (err) {
    throw awsError(err, `read ${what} ${secretArn} (secretsmanager:GetSecretValue)`, 'Run with credentials allowed to read it');
  } finally {
    client.destroy();
  }
}

/** Wraps an SDK error in a CliError that says what was being done and what to check. */
function awsError(err: unknown, doing: string, hint: string): Error {
  if (err instanceof CliError) {
    return err;
  }
  const code = errorCode(err);
  if (code === 'CredentialsProviderError') {
    return new CliError(`Cannot ${doing}: no AWS credentials. Set AWS_PROFILE or ${AWS_ACCESS_KEY_ID}/${AWS_SECRET_ACCESS_KEY} for your own AWS account.`);
  }
  if (/Region is missing/i.test((err as Error)?.message ?? '')) {
    return new CliError(`Cannot ${doing}: no region. Pass --region (the stack's region) or set ${AWS_REGION}.`);
  }
  if (code === 'AccessDeniedException' || code === 'AccessDenied') {
    return new CliError(`Cannot ${doing}: access denied. Use credentials allowed that action.`);
  }
  return new CliError(`Cannot ${doing}: ${describeError(err)}. ${hint}.`);
}
