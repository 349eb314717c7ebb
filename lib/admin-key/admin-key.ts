/**
 * Admin keys of a self-hosted Convex backend, derived from its `INSTANCE_NAME` and
 * `INSTANCE_SECRET` exactly as the backend's key broker issues them (read from
 * get-convex/convex-backend: `crates/keybroker/src/encryptor.rs`, `broker.rs`, `secret.rs`):
 *
 * - cipher key: KBKDF in counter mode with HMAC-SHA256 (NIST SP 800-108: a 32-bit big-endian
 *   counter from 1, then the label; no length field), key = the 32 secret bytes, label = ASCII
 *   `admin key`, first 16 bytes of output;
 * - encrypted part: hex of `version (0x01) || nonce (12 random bytes) || ciphertext || tag (16)`,
 *   AES-128-GCM-SIV (RFC 8452) with the single version byte as associated data, over the protobuf
 *   `AdminKey` message ({@link encodeAdminKeyProto});
 * - the key: `<INSTANCE_NAME>|<encrypted part>`.
 *
 * The backend accepts a key that decrypts under its secret, whose prefix (less a `prod:`/`dev:`
 * type prefix) equals its `INSTANCE_NAME`, with `issued_s != 0` and an identity. Keys never
 * expire; only a new `INSTANCE_SECRET` revokes them.
 *
 * AES-GCM-SIV comes from `@noble/ciphers` (audited; `node:crypto` has no GCM-SIV), HMAC from
 * `node:crypto`: no cryptography is written here. No aws-cdk-lib import: the CLI and the backup
 * function share this module.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { gcmsiv } from '@noble/ciphers/aes';
import { type AdminKeyClaims, decodeAdminKeyProto, encodeAdminKeyProto } from './admin-key-proto';

export type { AdminKeyClaims } from './admin-key-proto';

/** The version byte that starts every current admin key (`ADMIN_KEY_VERSION` in broker.rs). */
export const ADMIN_KEY_VERSION = 1;

/** The KBKDF label of admin keys (`Purpose::ADMIN_KEY` in encryptor.rs). */
export const ADMIN_KEY_PURPOSE = 'admin key';

/** Bytes of an `INSTANCE_SECRET` (written as 64 hex characters). */
export const INSTANCE_SECRET_BYTES = 32;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CIPHER_KEY_BYTES = 16;

/** A problem with an admin key's inputs or with a key itself; the message says what to fix. */
export class AdminKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminKeyError';
  }
}

/**
 * Decodes an `INSTANCE_SECRET` the way the backend does (`const_hex::decode`): hex digits of
 * either case, an optional `0x` prefix, exactly 32 bytes. Nothing is trimmed: the backend does
 * not trim either.
 *
 * @throws AdminKeyError naming what is wrong (never echoing the value).
 */
export function parseInstanceSecret(text: string): Uint8Array {
  // Only a lowercase 0x: const_hex strips exactly that.
  const digits = text.startsWith('0x') ? text.slice(2) : text;
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    const bad = /\s/.test(digits) ? 'whitespace' : /^0X/.test(digits) ? 'an uppercase 0X prefix (the backend strips only 0x)' : 'characters that are not hex digits';
    throw new AdminKeyError(`INSTANCE_SECRET has ${bad}; it must be 64 hex characters (32 bytes, e.g. from openssl rand -hex 32), optionally prefixed with 0x.`);
  }
  if (digits.length !== INSTANCE_SECRET_BYTES * 2) {
    throw new AdminKeyError(
      `INSTANCE_SECRET has ${digits.length} hex characters (${digits.length % 2 === 0 ? `${digits.length / 2} bytes` : 'an odd number'}); ` +
        `it must be exactly 64 (32 bytes, e.g. from openssl rand -hex 32).`,
    );
  }
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

/**
 * KBKDF in counter mode with HMAC-SHA256 (NIST SP 800-108), as aws-lc's `kbkdf_ctr_hmac` that
 * the backend calls: block i = HMAC(key, i as 32-bit big-endian || fixedInput), i from 1,
 * concatenated and cut to `length` bytes. No length field and no separator are added.
 */
export function kbkdfCounterHmacSha256(key: Uint8Array, fixedInput: Uint8Array, length: number): Uint8Array {
  const blocks: Buffer[] = [];
  for (let i = 1; blocks.length * 32 < length; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    blocks.push(createHmac('sha256', key).update(counter).update(fixedInput).digest());
  }
  return Uint8Array.from(Buffer.concat(blocks).subarray(0, length));
}

/**
 * The AES-128-GCM-SIV key of admin keys: {@link kbkdfCounterHmacSha256} of the 32 secret bytes
 * with the label `admin key`, 16 bytes (`Encryptor::derive_from_secret`).
 */
export function adminKeyCipherKey(instanceSecret: Uint8Array): Uint8Array {
  if (instanceSecret.length !== INSTANCE_SECRET_BYTES) {
    throw new AdminKeyError(`The instance secret has ${instanceSecret.length} bytes; it must have ${INSTANCE_SECRET_BYTES}.`);
  }
  return kbkdfCounterHmacSha256(instanceSecret, Buffer.from(ADMIN_KEY_PURPOSE, 'ascii'), CIPHER_KEY_BYTES);
}

/**
 * Why `name` cannot carry an admin key, or undefined. The backend splits a key at its first `|`
 * and reads a `:` in the name as a `prod:`/`dev:` type prefix, so a name with either could never
 * match its own keys.
 */
export function adminKeyInstanceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'INSTANCE_NAME is empty; an admin key starts with the deployment\'s INSTANCE_NAME (the image\'s default is convex-self-hosted).';
  if (name.includes('|')) return `INSTANCE_NAME '${name}' contains '|', where the backend splits an admin key: no key could match it.`;
  if (name.includes(':')) return `INSTANCE_NAME '${name}' contains ':', which the backend reads as a prod:/dev: type prefix and strips: no key could match it.`;
  if (/\s/.test(name)) return `INSTANCE_NAME '${name}' contains whitespace; check where the name was copied from.`;
  return undefined;
}

/** What to issue an admin key for. */
export interface IssueAdminKeyOptions {
  /** The deployment's `INSTANCE_NAME`. */
  readonly instanceName: string;
  /** The deployment's `INSTANCE_SECRET`: its 64 hex characters, or its 32 bytes. */
  readonly instanceSecret: string | Uint8Array;
  /**
   * Issue a read-only key (queries and reads only).
   *
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * The member ID inside the key; the self-hosted `generate_key` issues 0.
   *
   * @default 0
   */
  readonly memberId?: number;
  /**
   * When the key is issued.
   *
   * @default - now
   */
  readonly issuedAt?: Date;
  /**
   * The 12-byte nonce; only tests should pass one (the backend draws a random one per key).
   *
   * @default - 12 random bytes
   */
  readonly nonce?: Uint8Array;
}

function secretBytes(secret: string | Uint8Array): Uint8Array {
  return typeof secret === 'string' ? parseInstanceSecret(secret) : secret;
}

function checkedInstanceName(name: string): string {
  const problem = adminKeyInstanceNameProblem(name);
  if (problem) throw new AdminKeyError(problem);
  return name;
}

/**
 * Issues an admin key, `<INSTANCE_NAME>|<hex>`, as the backend's key broker would.
 *
 * @throws AdminKeyError for an unusable instance name or secret.
 */
export function issueAdminKey(options: IssueAdminKeyOptions): string {
  const instanceName = checkedInstanceName(options.instanceName);
  const key = adminKeyCipherKey(secretBytes(options.instanceSecret));
  const issuedAtSeconds = Math.floor((options.issuedAt ?? new Date()).getTime() / 1000);
  if (!(issuedAtSeconds > 0)) {
    throw new AdminKeyError('issuedAt must be after 1970-01-01T00:00:01Z: the backend rejects a key issued at 0.');
  }
  const nonce = options.nonce ?? Uint8Array.from(randomBytes(NONCE_BYTES));
  if (nonce.length !== NONCE_BYTES) throw new AdminKeyError(`The nonce must have ${NONCE_BYTES} bytes, not ${nonce.length}.`);
  const plaintext = encodeAdminKeyProto({ issuedAtSeconds, memberId: options.memberId ?? 0, readOnly: options.readOnly ?? false });
  const sealed = gcmsiv(key, nonce, Uint8Array.of(ADMIN_KEY_VERSION)).encrypt(plaintext);
  const encrypted = Buffer.concat([Uint8Array.of(ADMIN_KEY_VERSION), nonce, sealed]).toString('hex');
  return `${instanceName}|${encrypted}`;
}

/** The deployment a key is checked against. */
export interface AdminKeyDeployment {
  /** Its `INSTANCE_NAME`. */
  readonly instanceName: string;
  /** Its `INSTANCE_SECRET`: 64 hex characters, or 32 bytes. */
  readonly instanceSecret: string | Uint8Array;
}

/**
 * Checks an admin key the way the backend's `check_admin_key` does and returns what it says:
 * split at the first `|`, strip a `prod:`/`dev:` type prefix from the name, decrypt version 1,
 * then require the deployment's name, `issued_s != 0` and an identity.
 *
 * @throws AdminKeyError saying why the backend would refuse the key.
 */
export function verifyAdminKey(adminKey: string, deployment: AdminKeyDeployment): AdminKeyClaims {
  const expectedName = checkedInstanceName(deployment.instanceName);
  const bar = adminKey.indexOf('|');
  const prefix = bar < 0 ? undefined : adminKey.slice(0, bar);
  const encrypted = bar < 0 ? adminKey : adminKey.slice(bar + 1);
  const colon = prefix?.indexOf(':') ?? -1;
  const prefixName = prefix === undefined || colon < 0 ? prefix : prefix.slice(colon + 1);

  if (!/^([0-9a-fA-F]{2})+$/.test(encrypted)) {
    throw new AdminKeyError('The admin key\'s encrypted part (after the first |) is not hex.');
  }
  const bytes = Buffer.from(encrypted, 'hex');
  if (bytes[0] !== ADMIN_KEY_VERSION) {
    throw new AdminKeyError(`The admin key has version ${bytes[0]}, not ${ADMIN_KEY_VERSION} (keys from images before mid-2025 used an older format).`);
  }
  if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES) {
    throw new AdminKeyError('The admin key is too short to hold a nonce and a tag.');
  }
  let plaintext: Uint8Array;
  try {
    const key = adminKeyCipherKey(secretBytes(deployment.instanceSecret));
    plaintext = gcmsiv(key, bytes.subarray(1, 1 + NONCE_BYTES), Uint8Array.of(ADMIN_KEY_VERSION)).decrypt(bytes.subarray(1 + NONCE_BYTES));
  } catch (err) {
    if (err instanceof AdminKeyError) throw err;
    throw new AdminKeyError('The admin key does not decrypt with this INSTANCE_SECRET: it was issued for another secret, or it was altered.');
  }
  let claims: AdminKeyClaims;
  try {
    claims = decodeAdminKeyProto(plaintext);
  } catch (err) {
    throw new AdminKeyError(`The admin key decrypts but its content is not an AdminKey message: ${(err as Error).message}.`);
  }
  const name = prefixName ?? claims.instanceName;
  if (name === undefined) throw new AdminKeyError('The admin key names no instance (no <INSTANCE_NAME>| prefix).');
  if (name !== expectedName) {
    throw new AdminKeyError(`The admin key is for instance '${name}', but this deployment's INSTANCE_NAME is '${expectedName}': the backend refuses it.`);
  }
  if (claims.issuedAtSeconds === 0) throw new AdminKeyError('The admin key has no issue time (issued_s is 0): the backend refuses it.');
  if (claims.memberId === undefined && !claims.system) throw new AdminKeyError('The admin key has no identity (member or system): the backend refuses it.');
  return claims;
}
