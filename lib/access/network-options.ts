/**
 * Where the backend's own credentials may be used from: the checks of S3 gateway VPC endpoint
 * IDs (`backendVpcEndpointIds`) and of source address ranges (`backendSourceIps`).
 *
 * No aws-cdk-lib import: the app's context reader, the constructs and the CLI share this module.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** An S3 gateway VPC endpoint ID as EC2 writes it: `vpce-` and 8 or 17 lowercase hex digits. */
const VPC_ENDPOINT_ID_PATTERN = /^vpce-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** Why `id` is not a VPC endpoint ID; empty when it is. */
export function vpcEndpointIdProblems(id: string): string[] {
  if (VPC_ENDPOINT_ID_PATTERN.test(id)) return [];
  return [`'${id}' is not a VPC endpoint ID; expected vpce- and 8 or 17 lowercase hex digits (aws ec2 describe-vpc-endpoints --filters Name=service-name,Values=com.amazonaws.<region>.s3 --query 'VpcEndpoints[].VpcEndpointId')`];
}

/**
 * Ranges S3 never sees as a request's source address: private, loopback, link-local and shared
 * (carrier-grade NAT) space. A request from such an address reaches S3 through a NAT or internet
 * gateway (S3 then sees the gateway's public address) or through a VPC endpoint (where
 * `aws:SourceIp` is absent), so an allowlist of them would lock the backend out.
 */
const NON_PUBLIC_RANGES: readonly string[] = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '0.0.0.0/8',
  'fc00::/7', 'fe80::/10', '::1/128', '::/128',
];

/** A parsed CIDR block: the address as a big integer, its width in bits, and the prefix length. */
interface Block {
  readonly bits: 32 | 128;
  readonly address: bigint;
  readonly prefix: number;
}

function parseAddress(text: string): { bits: 32 | 128; address: bigint } | undefined {
  if (isIPv4(text)) {
    return { bits: 32, address: text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n) };
  }
  if (!isIPv6(text) || text.includes('.')) return undefined;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return { bits: 128, address: groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n) };
}

function parseBlock(cidr: string): Block | undefined {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return undefined;
  const parsed = parseAddress(match[1]);
  const prefix = Number(match[2]);
  if (!parsed || prefix > parsed.bits) return undefined;
  return { ...parsed, prefix };
}

function hostMask(block: Block): bigint {
  return (1n << BigInt(block.bits - block.prefix)) - 1n;
}

function formatAddress(bits: 32 | 128, address: bigint): string {
  if (bits === 32) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address >> shift) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => ((address >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes '::'.
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

function overlaps(a: Block, b: Block): boolean {
  if (a.bits !== b.bits) return false;
  const prefix = Math.min(a.prefix, b.prefix);
  const shift = BigInt(a.bits - prefix);
  return (a.address >> shift) === (b.address >> shift);
}

/**
 * Why `cidr` cannot be an entry of `backendSourceIps`; empty when it can. An entry is a public
 * IPv4 or IPv6 block in CIDR notation with its host bits zero (`203.0.113.7/32`,
 * `2001:db8:1234::/48`), and not `/0`.
 */
export function sourceIpProblems(cidr: string): string[] {
  const block = parseBlock(cidr);
  if (!block) {
    const single = parseAddress(cidr);
    return single
      ? [`'${cidr}' has no prefix length; write one address as '${cidr}/${single.bits}'`]
      : [`'${cidr}' is not an IPv4 or IPv6 CIDR block (e.g. 203.0.113.7/32 or 2001:db8::/48)`];
  }
  if (block.prefix === 0) {
    return [`'${cidr}' allows every address, which restricts nothing; drop backendSourceIps instead`];
  }
  if ((block.address & hostMask(block)) !== 0n) {
    const network = formatAddress(block.bits, block.address & ~hostMask(block));
    return [`'${cidr}' has host bits set; the block is '${network}/${block.prefix}' (or write one address as '${cidr.split('/')[0]}/${block.bits}')`];
  }
  const hidden = NON_PUBLIC_RANGES.find((range) => overlaps(block, parseBlock(range)!));
  if (hidden) {
    return [`'${cidr}' is in the non-public range ${hidden}: S3 sees the public address a request leaves from (its NAT or internet gateway), never a private one, so the backend would be locked out. Give the backend's public address (for example from https://checkip.amazonaws.com) as <address>/32`];
  }
  return [];
}

/**
 * Every problem with a list of `backendSourceIps`, one sentence each, naming the setting.
 * Entries for which `unchecked` is true (unresolved CDK tokens) are not checked.
 */
export function sourceIpListProblems(name: string, cidrs: readonly string[], unchecked: (value: string) => boolean = () => false): string[] {
  if (cidrs.length === 0) {
    return [`${name} is empty, which would deny the backend every request; list the backend's public CIDR blocks, or drop ${name} to allow every address.`];
  }
  return cidrs.filter((cidr) => !unchecked(cidr)).flatMap((cidr) => sourceIpProblems(cidr).map((p) => `${name}: ${p}.`));
}

/**
 * Every problem with a list of `backendVpcEndpointIds`, one sentence each, naming the setting.
 * Entries for which `unchecked` is true (unresolved CDK tokens) are not checked.
 */
export function vpcEndpointIdListProblems(name: string, ids: readonly string[], unchecked: (value: string) => boolean = () => false): string[] {
  if (ids.length === 0) {
    return [`${name} is empty, which would deny the backend every request; list the S3 gateway endpoint IDs of the backend's VPC, or drop ${name}.`];
  }
  return ids.filter((id) => !unchecked(id)).flatMap((id) => vpcEndpointIdProblems(id).map((p) => `${name}: ${p}.`));
}
