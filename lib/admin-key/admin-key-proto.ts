/**
 * The protobuf encoding of the backend's `AdminKey` message (`crates/pb/protos/convex_keys.proto`
 * in get-convex/convex-backend), written out for the few fields an admin key has:
 *
 * ```proto
 * message AdminKey {
 *   optional string instance_name = 1;
 *   uint64 issued_s = 2;                 // seconds since the epoch
 *   oneof identity { uint64 member_id = 3; google.protobuf.Empty system = 4; }
 *   bool is_read_only = 5;
 * }
 * ```
 *
 * Encoding follows proto3 as prost writes it (the backend's `issue_key` in
 * `crates/keybroker/src/broker.rs`): fields in number order; `issued_s` and `is_read_only` only
 * when non-zero / true; `member_id` always, even 0, because a field of a `oneof` has presence;
 * `instance_name` unset (the key's `<name>|` prefix carries the name). This is encoding, not
 * cryptography; the cipher comes from `@noble/ciphers`. No aws-cdk-lib import: the CLI and the
 * backup function share this module.
 */

/** What an admin key says once decrypted. */
export interface AdminKeyClaims {
  /** When the key was issued, in whole seconds since the epoch; never 0 in a valid key. */
  readonly issuedAtSeconds: number;
  /**
   * The member the key was issued for; the self-hosted `generate_key` uses 0.
   *
   * @default - none: a system key, or a key without identity (which the backend refuses)
   */
  readonly memberId?: number;
  /**
   * Whether it is a system key (identity `system`) rather than a member's admin key.
   *
   * @default - not a system key
   */
  readonly system?: boolean;
  /** A read-only key may run queries and read data, not write. */
  readonly readOnly: boolean;
  /**
   * The instance name inside the encrypted part (older keys without a `<name>|` prefix).
   *
   * @default - none: the key's `<name>|` prefix names the instance
   */
  readonly instanceName?: string;
}

/** Protobuf wire types used by the message. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

const FIELD_INSTANCE_NAME = 1;
const FIELD_ISSUED_S = 2;
const FIELD_MEMBER_ID = 3;
const FIELD_SYSTEM = 4;
const FIELD_IS_READ_ONLY = 5;

/** Appends `value` (a non-negative safe integer) as a base-128 varint, least significant group first. */
function pushVarint(out: number[], value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`A varint must be a non-negative safe integer, not ${value}`);
  }
  // Division, not bit operations: those would cut the value to 32 bits.
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function pushTag(out: number[], field: number, wireType: number): void {
  pushVarint(out, field * 8 + wireType);
}

/** The `AdminKey` message bytes for a member's key, as the backend's key broker encodes it. */
export function encodeAdminKeyProto(claims: { issuedAtSeconds: number; memberId: number; readOnly: boolean }): Uint8Array {
  const out: number[] = [];
  if (claims.issuedAtSeconds !== 0) {
    pushTag(out, FIELD_ISSUED_S, VARINT);
    pushVarint(out, claims.issuedAtSeconds);
  }
  pushTag(out, FIELD_MEMBER_ID, VARINT);
  pushVarint(out, claims.memberId);
  if (claims.readOnly) {
    pushTag(out, FIELD_IS_READ_ONLY, VARINT);
    pushVarint(out, 1);
  }
  return Uint8Array.from(out);
}

/**
 * Reads an `AdminKey` message. Unknown fields are skipped as protobuf requires (varint and
 * length-delimited ones; other wire types are not expected here and are refused).
 *
 * @throws Error on truncated input or a value beyond 2^53.
 */
export function decodeAdminKeyProto(bytes: Uint8Array): AdminKeyClaims {
  let offset = 0;
  const readVarint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (offset >= bytes.length) throw new Error('AdminKey message is truncated inside a varint');
      const byte = bytes[offset++];
      value += (byte & 0x7f) * scale;
      if (!Number.isSafeInteger(value)) throw new Error('AdminKey message has a varint beyond 2^53');
      if ((byte & 0x80) === 0) return value;
      scale *= 0x80;
    }
  };
  const readBytes = (): Uint8Array => {
    const length = readVarint();
    if (offset + length > bytes.length) throw new Error('AdminKey message is truncated inside a length-delimited field');
    const slice = bytes.subarray(offset, offset + length);
    offset += length;
    return slice;
  };

  let issuedAtSeconds = 0;
  let memberId: number | undefined;
  let system = false;
  let readOnly = false;
  let instanceName: string | undefined;
  while (offset < bytes.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === VARINT) {
      const value = readVarint();
      if (field === FIELD_ISSUED_S) issuedAtSeconds = value;
      else if (field === FIELD_MEMBER_ID) {
        memberId = value;
        system = false;
      } else if (field === FIELD_IS_READ_ONLY) readOnly = value !== 0;
    } else if (wireType === LENGTH_DELIMITED) {
      const value = readBytes();
      if (field === FIELD_INSTANCE_NAME) instanceName = new TextDecoder('utf-8', { fatal: true }).decode(value);
      else if (field === FIELD_SYSTEM) {
        system = true;
        memberId = undefined;
      }
    } else {
      throw new Error(`AdminKey message has field ${field} with unexpected wire type ${wireType}`);
    }
  }
  return {
    issuedAtSeconds,
    readOnly,
    ...(memberId !== undefined ? { memberId } : {}),
    ...(system ? { system } : {}),
    ...(instanceName !== undefined ? { instanceName } : {}),
  };
}
