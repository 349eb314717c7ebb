/**
 * mergeDotEnv: the merge `env` relies on, line by line.
 */
import { mergeDotEnv, parseDotEnv } from '../../lib/dotenv';

test('replaces in place, appends after a header, removes, keeps everything else byte for byte', () => {
  const before = "# top\nA='1'\n  # indented comment\nexport B=2\nC=3 # trailing\n\nD=4\n";
  const result = mergeDotEnv(before, [{ key: 'B', value: 'two' }, { key: 'E', value: 'five' }, { key: 'AWS_S3_DISABLE_SSE', value: 'true' }], ['D'], 'added');
  expect(result.text).toBe("# top\nA='1'\n  # indented comment\nexport B='two'\nC=3 # trailing\n\n# added\nE='five'\nAWS_S3_DISABLE_SSE=true\n");
  expect(result).toMatchObject({ replaced: ['B'], appended: ['E', 'AWS_S3_DISABLE_SSE'], removed: ['D'] });
});

test('keeps CRLF line endings and drops later duplicates that would override the merge', () => {
  const result = mergeDotEnv("X=old\r\nY=keep\r\nX=later\r\n", [{ key: 'X', value: 'new' }]);
  expect(result.text).toBe("X='new'\r\nY=keep\r\n");
  expect(parseDotEnv(result.text).get('X')).toBe('new');
  expect(result.removed).toEqual(['X']);
});

test('an empty file becomes just the new block; a value with a quote round-trips', () => {
  const result = mergeDotEnv('', [{ key: 'K', value: "it's" }]);
  expect(result.text).toBe('K="it\'s"\n');
  expect(parseDotEnv(result.text).get('K')).toBe("it's");
});
