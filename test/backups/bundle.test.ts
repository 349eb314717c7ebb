/**
 * The committed Lambda bundle (assets/backup-function/index.js) is what `npm run bundle` makes of
 * today's sources, and it runs: the bundled handler backs up against the loopback backend.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKUP_FUNCTION_ENV } from '../../lib/backups/backup-settings';
import { backupFunctionAssetDir } from '../../lib/backups/convex-scheduled-backups';
import { isolateAwsEnvWithTestKeys } from '../cli/helpers';
import { startFakeBackend } from './fake-backend';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundler = require('../../scripts/bundle-backup-function.js') as { OUTFILE: string; bundleText: () => string };

test('the committed bundle is up to date with the sources (else: npm run bundle)', () => {
  expect(backupFunctionAssetDir()).toBe(join(__dirname, '..', '..', 'assets', 'backup-function'));
  expect(readFileSync(bundler.OUTFILE, 'utf8')).toBe(bundler.bundleText());
});

test('the bundle carries the handler and @noble/ciphers, and loads only the AWS SDK and Node built-ins from outside', () => {
  const text = readFileSync(bundler.OUTFILE, 'utf8');
  const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  expect(new Set(required)).toEqual(new Set(['@aws-sdk/client-secrets-manager', 'node:crypto']));
  expect(text).toContain('node_modules/@noble/ciphers/esm/aes.js');
  expect(text.length).toBeLessThan(100_000);
});

describe('the bundled handler', () => {
  let saved: NodeJS.ProcessEnv;
  beforeAll(isolateAwsEnvWithTestKeys);
  beforeEach(() => {
    saved = { ...process.env };
  });
  afterEach(() => {
    process.env = saved;
  });

  test('backs up against the loopback backend', async () => {
    const secret = 'cd'.repeat(32);
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Bundled-AbCdEf';
    const backend = await startFakeBackend({ instanceName: 'bundled', instanceSecret: secret, secretArn });
    backend.firstState = 'completed';
    backend.progression = [];
    Object.assign(process.env, {
      [BACKUP_FUNCTION_ENV.apiUrl]: backend.url,
      [BACKUP_FUNCTION_ENV.instanceName]: 'bundled',
      [BACKUP_FUNCTION_ENV.instanceSecretArn]: secretArn,
      [BACKUP_FUNCTION_ENV.retentionDays]: '20',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: backend.url,
    });
    const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundled = require(bundler.OUTFILE) as { handler: (e: unknown, c: unknown) => Promise<{ confirmed: string[] }> };
      await expect(bundled.handler({}, { getRemainingTimeInMillis: () => 600_000, functionName: 'fn' })).resolves.toMatchObject({ confirmed: ['export1'] });
    } finally {
      spy.mockRestore();
      await backend.close();
    }
    expect(backend.requests.filter((r) => r.path.startsWith('/api/')).every((r) => r.claims?.memberId === 0)).toBe(true);
  }, 20_000);
});
