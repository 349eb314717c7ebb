/**
 * Admin keys as the backend's key broker issues them: the cipher against RFC 8452's published
 * vectors, the key derivation against NIST's SP 800-108 vectors, the AdminKey message byte for
 * byte, and keys that the backend's checks accept or refuse.
 */
import { createHmac } from 'node:crypto';
import { gcmsiv } from '@noble/ciphers/aes';
import {
  ADMIN_KEY_PURPOSE, AdminKeyError, adminKeyCipherKey, issueAdminKey, kbkdfCounterHmacSha256, parseInstanceSecret, verifyAdminKey,
} from '../../lib/admin-key/admin-key';
import { decodeAdminKeyProto, encodeAdminKeyProto } from '../../lib/admin-key/admin-key-proto';

const unhex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const SECRET = '4361726e697461732c206c69746572616c6c79206d65616e696e6720226c6974';
const OTHER_SECRET = 'aa'.repeat(32);
const NAME = 'convex-prod';

describe('AES-128-GCM-SIV from @noble/ciphers: RFC 8452 appendix C.1 (AEAD_AES_128_GCM_SIV)', () => {
  // [key, nonce, AAD, plaintext, result (ciphertext || tag)], typed from the RFC.
  const vectors: [string, string, string, string, string][] = [
    ['01000000000000000000000000000000', '030000000000000000000000', '', '', 'dc20e2d83f25705bb49e439eca56de25'],
    ['01000000000000000000000000000000', '030000000000000000000000', '', '0100000000000000', 'b5d839330ac7b786578782fff6013b815b287c22493a364c'],
    ['01000000000000000000000000000000', '030000000000000000000000', '', '010000000000000000000000', '7323ea61d05932260047d942a4978db357391a0bc4fdec8b0d106639'],
    ['01000000000000000000000000000000', '030000000000000000000000', '', '01000000000000000000000000000000', '743f7c8077ab25f8624e2e948579cf77303aaf90f6fe21199c6068577437a0c4'],
    // One byte 0x01 of associated data: what an admin key uses (its version byte).
    ['01000000000000000000000000000000', '030000000000000000000000', '01', '0200000000000000', '1e6daba35669f4273b0a1a2560969cdf790d99759abd1508'],
    ['e66021d5eb8e4f4066d4adb9c33560e4', 'f46e44bb3da0015c94f70887', '', '', 'a4194b79071b01a87d65f706e3949578'],
    ['36864200e0eaf5284d884a0e77d31646', 'bae8e37fc83441b16034566b', '46bb91c3c5', '7a806c', 'af60eb711bd85bc1e4d3e0a462e074eea428a8'],
  ];

  test.each(vectors)('key %s nonce %s AAD "%s" plaintext "%s"', (key, nonce, aad, plaintext, result) => {
    expect(hex(gcmsiv(unhex(key), unhex(nonce), unhex(aad)).encrypt(unhex(plaintext)))).toBe(result);
    expect(hex(gcmsiv(unhex(key), unhex(nonce), unhex(aad)).decrypt(unhex(result)))).toBe(plaintext);
  });

  test('a changed byte or other associated data does not decrypt', () => {
    const [key, nonce, aad, , result] = vectors[4];
    const tampered = unhex(result);
    tampered[0] ^= 1;
    expect(() => gcmsiv(unhex(key), unhex(nonce), unhex(aad)).decrypt(tampered)).toThrow();
    expect(() => gcmsiv(unhex(key), unhex(nonce), unhex('02')).decrypt(unhex(result))).toThrow();
  });
});

describe('key derivation', () => {
  // NIST CAVP KBKDF (SP 800-108) KDFCTR_gen.rsp, [PRF=HMAC_SHA256] [CTRLOCATION=BEFORE_FIXED] [RLEN=32_BITS].
  test.each([
    ['dd1d91b7d90b2bd3138533ce92b272fbf8a369316aefe242e659cc0ae238afe0', '01322b96b30acd197979444e468e1c5c6859bf1b1cf951b7e725303e237e46b864a145fab25e517b08f8683d0315bb2911d80a0e8aba17f3b413faac', 16, '10621342bfb0fd40046c0e29f2cfdbf0'],
    ['e204d6d466aad507ffaf6d6dab0a5b26152c9e21e764370464e360c8fbc765c6', '7b03b98d9f94b899e591f3ef264b71b193fba7043c7e953cde23bc5384bc1a6293580115fae3495fd845dadbd02bd6455cf48d0f62b33e62364a3a80', 32, '770dfab6a6a4a4bee0257ff335213f78d8287b4fd537d5c1fffa956910e7c779'],
  ])('NIST KBKDF counter-mode HMAC-SHA256 vector (KI %s)', (ki, fixed, length, ko) => {
    expect(hex(kbkdfCounterHmacSha256(unhex(ki), unhex(fixed), length))).toBe(ko);
  });

  test('the admin key cipher key is the first 16 bytes of HMAC-SHA256(secret, 00 00 00 01 || "admin key")', () => {
    expect(ADMIN_KEY_PURPOSE).toBe('admin key');
    const message = Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('admin key', 'ascii')]);
    const expected = createHmac('sha256', unhex(SECRET)).update(message).digest().subarray(0, 16);
    expect(hex(adminKeyCipherKey(unhex(SECRET)))).toBe(hex(expected));
    expect(adminKeyCipherKey(unhex(SECRET))).toHaveLength(16);
    expect(hex(adminKeyCipherKey(unhex(OTHER_SECRET)))).not.toBe(hex(expected));
  });
});

describe('the AdminKey message', () => {
  // Varints worked out by hand: 300 = ac 02 and 150 = 96 01 (the protobuf encoding guide's
  // examples); 1764547200 = 0x692cda80 = 80 b5 b3 c9 06.
  test.each([
    [{ issuedAtSeconds: 300, memberId: 0, readOnly: false }, '10ac021800'],
    [{ issuedAtSeconds: 300, memberId: 0, readOnly: true }, '10ac0218002801'],
    [{ issuedAtSeconds: 300, memberId: 150, readOnly: false }, '10ac02189601'],
    [{ issuedAtSeconds: 1764547200, memberId: 0, readOnly: false }, '1080b5b3c9061800'],
  ])('%o encodes as %s', (claims, bytes) => {
    expect(hex(encodeAdminKeyProto(claims))).toBe(bytes);
    expect(decodeAdminKeyProto(unhex(bytes))).toEqual(claims);
  });

  test('decoding reads a system identity, the instance name field, and skips unknown fields', () => {
    // field 1 "ab", field 2 = 5, field 4 (empty message), unknown field 9 = 1.
    expect(decodeAdminKeyProto(unhex('0a0261621005220048' + '01'))).toEqual({ instanceName: 'ab', issuedAtSeconds: 5, system: true, readOnly: false });
    expect(() => decodeAdminKeyProto(unhex('10'))).toThrow(/truncated/);
    expect(() => decodeAdminKeyProto(unhex('0a05'))).toThrow(/truncated/);
    expect(() => decodeAdminKeyProto(unhex('15000000'))).toThrow(/wire type 5/);
  });
});

describe('issuing and verifying', () => {
  const issuedAt = new Date('2025-12-01T00:00:00Z');
  const nonce = unhex('0102030405060708090a0b0c');

  test('the key is <name>|hex(01 || nonce || AES-128-GCM-SIV(plaintext, AAD 01))', () => {
    const key = issueAdminKey({ instanceName: NAME, instanceSecret: SECRET, issuedAt, nonce });
    const [name, encrypted] = key.split('|');
    expect(name).toBe(NAME);
    expect(encrypted).toMatch(/^[0-9a-f]+$/);
    const bytes = unhex(encrypted);
    expect(bytes[0]).toBe(1);
    expect(hex(bytes.subarray(1, 13))).toBe(hex(nonce));
    // 8 bytes of plaintext + 16 of tag.
    expect(bytes).toHaveLength(1 + 12 + 8 + 16);
    const plaintext = gcmsiv(adminKeyCipherKey(unhex(SECRET)), nonce, Uint8Array.of(1)).decrypt(bytes.subarray(13));
    expect(hex(plaintext)).toBe('1080b5b3c9061800');
    expect(verifyAdminKey(key, { instanceName: NAME, instanceSecret: SECRET })).toEqual({ issuedAtSeconds: 1764547200, memberId: 0, readOnly: false });
  });

  test('round trip: a read-only key, a random nonce per key, secret bytes or any-case hex with 0x', () => {
    const first = issueAdminKey({ instanceName: NAME, instanceSecret: SECRET, readOnly: true });
    const second = issueAdminKey({ instanceName: NAME, instanceSecret: unhex(SECRET), readOnly: true });
    expect(first).not.toBe(second);
    const now = Math.floor(Date.now() / 1000);
    for (const key of [first, second]) {
      const claims = verifyAdminKey(key, { instanceName: NAME, instanceSecret: `0x${SECRET.toUpperCase()}` });
      expect(claims).toMatchObject({ readOnly: true, memberId: 0 });
      expect(Math.abs(claims.issuedAtSeconds - now)).toBeLessThanOrEqual(2);
    }
  });

  test('verification accepts a dashboard-style type prefix and refuses what the backend refuses', () => {
    const key = issueAdminKey({ instanceName: NAME, instanceSecret: SECRET, issuedAt, nonce });
    const deployment = { instanceName: NAME, instanceSecret: SECRET };
    expect(verifyAdminKey(`prod:${key}`, deployment).memberId).toBe(0);
    expect(() => verifyAdminKey(key, { instanceName: 'convex-dev', instanceSecret: SECRET })).toThrow(/for instance 'convex-prod', but this deployment's INSTANCE_NAME is 'convex-dev'/);
    expect(() => verifyAdminKey(key, { instanceName: NAME, instanceSecret: OTHER_SECRET })).toThrow(/does not decrypt with this INSTANCE_SECRET/);
    const [, encrypted] = key.split('|');
    const flipped = `${NAME}|${encrypted.slice(0, -1)}${encrypted.endsWith('0') ? '1' : '0'}`;
    expect(() => verifyAdminKey(flipped, deployment)).toThrow(/does not decrypt/);
    expect(() => verifyAdminKey(`${NAME}|02${encrypted.slice(2)}`, deployment)).toThrow(/version 2/);
    expect(() => verifyAdminKey(`${NAME}|zz`, deployment)).toThrow(/not hex/);
    // A key with no identity or issued_s 0, sealed correctly, is still refused.
    const seal = (plaintext: string) => `${NAME}|01${hex(nonce)}${hex(gcmsiv(adminKeyCipherKey(unhex(SECRET)), nonce, Uint8Array.of(1)).encrypt(unhex(plaintext)))}`;
    expect(() => verifyAdminKey(seal('10ac02'), deployment)).toThrow(/no identity/);
    expect(() => verifyAdminKey(seal('1800'), deployment)).toThrow(/issued_s is 0/);
    expect(() => verifyAdminKey(seal('10ac021800').replace(`${NAME}|`, ''), deployment)).toThrow(/names no instance/);
  });

  test.each([
    ['', /has 0 hex characters .*exactly 64/],
    ['ab'.repeat(31), /has 62 hex characters \(31 bytes\)/],
    ['ab'.repeat(33), /has 66 hex characters \(33 bytes\)/],
    [`${'a'.repeat(63)}`, /an odd number/],
    [`${'g'.repeat(64)}`, /not hex digits/],
    [`${SECRET}\n`, /whitespace/],
    [`0X${SECRET}`, /uppercase 0X prefix/],
  ])('secret %j is refused', (secret, message) => {
    expect(() => parseInstanceSecret(secret)).toThrow(AdminKeyError);
    expect(() => issueAdminKey({ instanceName: NAME, instanceSecret: secret })).toThrow(message);
  });

  test('error messages never echo the secret', () => {
    let message = '';
    try {
      parseInstanceSecret(`${SECRET}x`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain(SECRET.slice(0, 16));
    expect(message).toMatch(/not hex digits/);
  });

  test.each([
    ['', /INSTANCE_NAME is empty/],
    ['a|b', /contains '\|'/],
    ['prod:a', /contains ':'/],
    ['a b', /whitespace/],
  ])('instance name %j is refused', (instanceName, message) => {
    expect(() => issueAdminKey({ instanceName, instanceSecret: SECRET })).toThrow(message);
  });

  test('a secret of the wrong byte length and an issue time of 0 are refused', () => {
    expect(() => issueAdminKey({ instanceName: NAME, instanceSecret: new Uint8Array(16) })).toThrow(/16 bytes; it must have 32/);
    expect(() => issueAdminKey({ instanceName: NAME, instanceSecret: SECRET, issuedAt: new Date(0) })).toThrow(/issued at 0/);
    expect(() => issueAdminKey({ instanceName: NAME, instanceSecret: SECRET, nonce: new Uint8Array(8) })).toThrow(/12 bytes/);
  });
});
