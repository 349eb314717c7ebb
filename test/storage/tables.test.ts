import { PRESENCE_FLAG_VARS, REQUIRED_S3_VARS, STRICT_BOOLEAN_VARS, describeVariable, outputKeyFor, strictBoolean } from '../../lib/backend-env';
import { formatDotEnvLine, parseDotEnv, parseDotEnvLines, renderDotEnv } from '../../lib/dotenv';
import {
  EXPORT_EXPIRY_DAYS, EXPORT_LISTED_DAYS, LIFECYCLE_DEFAULTS, MAX_EXPIRED_SNAPSHOT_AGE_DAYS, MAX_IMPORT_AGE_DAYS, STORAGE_KINDS, storageKind,
} from '../../lib/storage-kinds';

describe('the storage table', () => {
  test('names the five variables the backend reads, once each', () => {
    expect(STORAGE_KINDS.map((k) => k.envVar)).toEqual([
      'S3_STORAGE_EXPORTS_BUCKET',
      'S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET',
      'S3_STORAGE_MODULES_BUCKET',
      'S3_STORAGE_FILES_BUCKET',
      'S3_STORAGE_SEARCH_BUCKET',
    ]);
    expect(new Set(STORAGE_KINDS.map((k) => k.bucketSuffix)).size).toBe(5);
    expect(new Set(STORAGE_KINDS.map((k) => k.kind)).size).toBe(5);
  });

  test.each([
    ['exports', 'S3_STORAGE_EXPORTS_BUCKET', 'exports'],
    ['snapshotImports', 'S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET', 'snapshot-imports'],
    ['modules', 'S3_STORAGE_MODULES_BUCKET', 'modules'],
    ['files', 'S3_STORAGE_FILES_BUCKET', 'files'],
    ['search', 'S3_STORAGE_SEARCH_BUCKET', 'search'],
  ] as const)('kind %s is read from %s and named <prefix>-%s', (kind, envVar, suffix) => {
    expect(storageKind(kind)).toMatchObject({ envVar, bucketSuffix: suffix });
  });

  test('never lets current files, modules or search indexes expire', () => {
    for (const kind of ['files', 'modules', 'search'] as const) {
      expect(storageKind(kind).currentObjects.expires).toBe(false);
    }
  });

  test('keeps exports at least 44 days (14-day expiry + 30 days before the backend deletes them), imports at least 7', () => {
    const exports = storageKind('exports').currentObjects;
    expect(exports).toMatchObject({ expires: true, defaultDays: 45, minDays: 44, retentionSetting: 'exportsRetentionDays' });
    expect(EXPORT_LISTED_DAYS).toBe(EXPORT_EXPIRY_DAYS + MAX_EXPIRED_SNAPSHOT_AGE_DAYS);
    expect([EXPORT_EXPIRY_DAYS, MAX_EXPIRED_SNAPSHOT_AGE_DAYS, MAX_IMPORT_AGE_DAYS]).toEqual([14, 30, 7]);
    const imports = storageKind('snapshotImports').currentObjects;
    expect(imports).toMatchObject({ expires: true, defaultDays: 30, minDays: 7, retentionSetting: 'importsRetentionDays' });
  });

  test('lets the backend delete only in the exports bucket', () => {
    expect(STORAGE_KINDS.filter((k) => k.backendDeletes).map((k) => k.kind)).toEqual(['exports']);
  });

  test('shared lifecycle defaults', () => {
    expect(LIFECYCLE_DEFAULTS).toEqual({ abortIncompleteMultipartUploadDays: 7, noncurrentVersionRetentionDays: 30, accessLogRetentionDays: 365 });
  });

  test('rejects an unknown kind', () => {
    expect(() => storageKind('backups' as never)).toThrow("Unknown storage kind 'backups'");
  });
});

describe('backend variables', () => {
  test('the six variables S3 mode needs', () => {
    expect(REQUIRED_S3_VARS).toEqual([
      'AWS_REGION', 'S3_STORAGE_EXPORTS_BUCKET', 'S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET', 'S3_STORAGE_MODULES_BUCKET',
      'S3_STORAGE_FILES_BUCKET', 'S3_STORAGE_SEARCH_BUCKET',
    ]);
  });

  test.each([
    ['AWS_REGION', 'AwsRegion'],
    ['S3_STORAGE_EXPORTS_BUCKET', 'S3StorageExportsBucket'],
    ['S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET', 'S3StorageSnapshotImportsBucket'],
    ['AWS_S3_DISABLE_SSE', 'AwsS3DisableSse'],
    ['AWS_ACCESS_KEY_ID', 'AwsAccessKeyId'],
  ])('output key of %s is %s', (envVar, key) => {
    expect(outputKeyFor(envVar)).toBe(key);
  });

  test('strict booleans are written lowercase', () => {
    expect(strictBoolean(true)).toBe('true');
    expect(strictBoolean(false)).toBe('false');
  });

  test('every variable has a description', () => {
    for (const name of [...REQUIRED_S3_VARS, ...Object.values(STRICT_BOOLEAN_VARS), 'INSTANCE_NAME', 'AWS_ACCESS_KEY_ID']) {
      expect(describeVariable(name)).not.toBe('backend setting');
    }
  });

  test('presence flags and strict booleans do not overlap', () => {
    const strict = new Set<string>(Object.values(STRICT_BOOLEAN_VARS));
    expect(Object.values(PRESENCE_FLAG_VARS).filter((v) => strict.has(v))).toEqual([]);
  });
});

describe('.env format', () => {
  test('quotes values like the upstream docs and leaves strict booleans bare', () => {
    expect(formatDotEnvLine('AWS_REGION', 'us-east-1')).toBe("AWS_REGION='us-east-1'");
    // docker run --env-file keeps quotes, and the backend reads 'true' with quotes as false.
    expect(formatDotEnvLine('AWS_S3_DISABLE_SSE', 'true')).toBe('AWS_S3_DISABLE_SSE=true');
  });

  test('round-trips values with quotes, hashes and spaces', () => {
    const text = renderDotEnv([
      { key: 'A', value: "it's" },
      { key: 'B', value: 'x # not a comment' },
      { key: 'C', value: 'back\\slash "q"' },
      { key: 'AWS_S3_FORCE_PATH_STYLE', value: 'true', comment: 'path style' },
    ]);
    expect(text).toContain('# path style\nAWS_S3_FORCE_PATH_STYLE=true\n');
    expect(Object.fromEntries(parseDotEnv(text))).toEqual({ A: "it's", B: 'x # not a comment', C: 'back\\slash "q"', AWS_S3_FORCE_PATH_STYLE: 'true' });
  });

  test('parses export prefixes, comments and unquoted values with inline comments', () => {
    const lines = parseDotEnvLines('# top\nexport A=1 # one\n\nB="two"\nnot an assignment\n');
    expect(lines.map((l) => l.key)).toEqual([undefined, 'A', undefined, 'B', undefined]);
    expect(Object.fromEntries(parseDotEnv('A=1 # one\nA=2\n'))).toEqual({ A: '2' });
  });

  test('quoted values may be followed by a comment, and keep their inner hashes and quotes', () => {
    const parsed = parseDotEnv([
      "AWS_REGION='us-east-1' # prod",
      'B="say \\"hi\\"" # greeting',
      "C='a # b'",
      'D="back\\\\nslash"',
      'E=plain',
    ].join('\n'));
    expect(Object.fromEntries(parsed)).toEqual({ AWS_REGION: 'us-east-1', B: 'say "hi"', C: 'a # b', D: 'back\\nslash', E: 'plain' });
  });

  test('rejects what a .env file cannot hold', () => {
    expect(() => formatDotEnvLine('1BAD', 'x')).toThrow("'1BAD' is not a valid environment variable name");
    expect(() => formatDotEnvLine('A', 'two\nlines')).toThrow('The value of A spans several lines');
  });
});
