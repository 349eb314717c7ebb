import { crc32Base64 } from '../../lib/cli/crc32';

test('CRC32 checksums are S3\'s x-amz-checksum-crc32 format (known vectors)', () => {
  // CRC32("hello") = 0x3610a686; CRC32("123456789") = 0xcbf43926, the standard check value.
  expect(crc32Base64(Buffer.from('hello'))).toBe(Buffer.from([0x36, 0x10, 0xa6, 0x86]).toString('base64'));
  expect(crc32Base64(Buffer.from('123456789'))).toBe(Buffer.from([0xcb, 0xf4, 0x39, 0x26]).toString('base64'));
  expect(crc32Base64(new Uint8Array())).toBe('AAAAAA==');
});
