import { crc32 } from 'node:zlib';

/** The CRC32 of `data`, as the base64 of its 4 big-endian bytes (S3's `ChecksumCRC32` format). */
export function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}
