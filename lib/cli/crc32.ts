/**
 * CRC32 (the IEEE polynomial S3 uses for `x-amz-checksum-crc32`), base64-encoded as S3 sends it.
 * Written out because `zlib.crc32` needs Node 20.15 and the package supports Node 20.0.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC32 of `data`, as the base64 of its 4 big-endian bytes (S3's `ChecksumCRC32` format). */
export function crc32Base64(data: Uint8Array): string {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc = TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}
