import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { LabelqError, itemError } from '@labelq/shared/errors';

/**
 * Which addresses HTTP(S) items may be fetched from (server-side request forgery protection).
 *
 * Refused by default: loopback, private, link-local (cloud metadata services such as 169.254.169.254 live there),
 * shared (carrier-grade NAT), multicast, reserved and unspecified addresses, IPv4 and IPv6, including IPv4 written
 * as IPv4-mapped IPv6 (`::ffff:127.0.0.1`): Node's BlockList checks those against the IPv4 rules.
 *
 * The check runs on the address actually connected to: IP-literal hosts are checked from the URL (`checkUrl`),
 * host names inside the connection's `lookup` (after DNS resolution, the resolved address is the one the socket
 * connects to, so DNS rebinding between a check and the connection is impossible). Every redirect target
 * goes through both again.
 *
 * The allow-list (LABELQ_HTTP_ALLOWED_HOSTS) lets trusted internal hosts through: an entry is an IP address,
 * a CIDR range (`10.20.0.0/16`, `fd00::/8`), a host name (`images.internal`, matched exactly, any address it
 * resolves to is accepted) or a wildcard name (`*.corp.example`: any name below corp.example).
 */
export interface AddressPolicy {
  /** Throws FETCH_ADDRESS_REFUSED when the URL's host is an IP literal the policy refuses. */
  checkUrl(url: URL): void;
  /** A node:net LookupFunction that resolves, then refuses (FETCH_ADDRESS_REFUSED) any refused address. */
  lookup: LookupFunction;
  /** Why `address` is refused (a sentence fragment), or undefined when it may be connected to. */
  refusalOf(address: string): string | undefined;
}

/** The ranges refused by default, each with what it is (shown in messages). */
export const refusedRanges: readonly { cidr: string; what: string }[] = [
  { cidr: '0.0.0.0/8', what: 'the "this network" range' },
  { cidr: '10.0.0.0/8', what: 'a private range' },
  { cidr: '100.64.0.0/10', what: 'the shared range (carrier-grade NAT, some cloud metadata services)' },
  { cidr: '127.0.0.0/8', what: 'the loopback range' },
  { cidr: '169.254.0.0/16', what: 'the link-local range (cloud metadata services)' },
  { cidr: '172.16.0.0/12', what: 'a private range' },
  { cidr: '192.0.0.0/24', what: 'the IETF protocol assignments range' },
  { cidr: '192.168.0.0/16', what: 'a private range' },
  { cidr: '198.18.0.0/15', what: 'the benchmarking range' },
  { cidr: '224.0.0.0/4', what: 'the multicast range' },
  { cidr: '240.0.0.0/4', what: 'the reserved and broadcast range' },
  { cidr: '::/128', what: 'the unspecified address' },
  { cidr: '::1/128', what: 'the IPv6 loopback address' },
  { cidr: 'fc00::/7', what: 'the IPv6 unique local (private) range' },
  { cidr: 'fe80::/10', what: 'the IPv6 link-local range' },
  { cidr: 'ff00::/8', what: 'the IPv6 multicast range' },
];

interface ParsedAllowList {
  addresses: BlockList;
  names: Set<string>;
  suffixes: string[];
}

/** One allow-list entry is malformed: a sentence naming it, or undefined when it is fine. */
export function allowEntryProblem(entry: string): string | undefined {
  return classify(entry).problem;
}

type AllowEntry =
  | { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6'; problem?: undefined }
  | { kind: 'name'; name: string; problem?: undefined }
  | { kind: 'suffix'; suffix: string; problem?: undefined }
  | { kind: 'bad'; problem: string };

function classify(entry: string): AllowEntry {
  const cidr = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry);
  const bare = cidr?.[1]?.replace(/^\[|\]$/g, '') ?? '';
  const version = isIP(bare);
  if (cidr !== null && version !== 0) {
    const max = version === 4 ? 32 : 128;
    const prefix = cidr[2] === undefined ? max : Number(cidr[2]);
    if (prefix > max) return { kind: 'bad', problem: `"${entry}" has a prefix length over ${max}` };
    return { kind: 'cidr', address: bare, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
  }
  const name = entry.toLowerCase();
  const hostLabel = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
  if (new RegExp(`^\\*\\.${hostLabel}(\\.${hostLabel})*$`).test(name)) return { kind: 'suffix', suffix: name.slice(1) };
  if (new RegExp(`^${hostLabel}(\\.${hostLabel})*$`).test(name)) return { kind: 'name', name };
  return { kind: 'bad', problem: `"${entry}" is neither an IP address, a CIDR range (10.0.0.0/8), a host name nor *.domain` };
}

function parseAllowList(entries: readonly string[]): ParsedAllowList {
  const parsed: ParsedAllowList = { addresses: new BlockList(), names: new Set(), suffixes: [] };
  const problems: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const kind = classify(entry);
    if (kind.kind === 'cidr') parsed.addresses.addSubnet(kind.address, kind.prefix, kind.family);
    else if (kind.kind === 'name') parsed.names.add(kind.name);
    else if (kind.kind === 'suffix') parsed.suffixes.push(kind.suffix);
    else problems.push(kind.problem);
  }
  if (problems.length > 0) {
    throw new LabelqError('CONFIG_INVALID', `LABELQ_HTTP_ALLOWED_HOSTS is not valid: ${problems.join('; ')}.`);
  }
  return parsed;
}

function subnetList(cidr: string): BlockList {
  const [address = '', prefix = ''] = cidr.split('/');
  const list = new BlockList();
  list.addSubnet(address, Number(prefix), isIP(address) === 4 ? 'ipv4' : 'ipv6');
  return list;
}

const refusedLists = refusedRanges.map((range) => ({ range, list: subnetList(range.cidr) }));

/** The refused range an address falls in (IPv4-mapped IPv6 counts as its IPv4 address), or undefined. */
function refusedRangeOf(address: string, family: 'ipv4' | 'ipv6'): { cidr: string; what: string } | undefined {
  return refusedLists.find(({ list }) => list.check(address, family))?.range;
}

export function createAddressPolicy(allowedHosts: readonly string[] = []): AddressPolicy {
  const allow = parseAllowList(allowedHosts);

  function nameAllowed(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return allow.names.has(name) || allow.suffixes.some((suffix) => name.endsWith(suffix));
  }

  /** The refused range `address` is in, unless allowed; undefined when it may be connected to. */
  function refusedRange(address: string): { cidr: string; what: string } | undefined {
    const version = isIP(address);
    if (version === 0) return { cidr: 'no range', what: 'not an IP address' };
    const family = version === 4 ? 'ipv4' : 'ipv6';
    const range = refusedRangeOf(address, family);
    if (range === undefined || allow.addresses.check(address, family)) return undefined;
    return range;
  }

  function refusalOf(address: string): string | undefined {
    const range = refusedRange(address);
    return range === undefined ? undefined : `${address} is in ${range.cidr}, ${range.what}`;
  }

  function refusedError(host: string, why: string): LabelqError {
    return itemError(
      'FETCH_ADDRESS_REFUSED',
      `Fetching from ${host} was refused: ${why}. Internal hosts must be listed in LABELQ_HTTP_ALLOWED_HOSTS (see docs/security.md).`,
    );
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      if (!nameAllowed(hostname)) {
        // Refuse when any address is refused: a name that resolves to a public and a private address could
        // otherwise reach the private one on a later connection.
        for (const { address } of addresses) {
          const range = refusedRange(address);
          if (range !== undefined) {
            callback(refusedError(hostname, `it resolves to ${address}, which is in ${range.cidr}, ${range.what}`), '', 0);
            return;
          }
        }
      }
      if (options.all === true) {
        (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0];
      if (first === undefined) callback(Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' }), '', 0);
      else callback(null, first.address, first.family);
    });
  };

  return {
    refusalOf,
    lookup,
    checkUrl(url) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) === 0) return; // a name: checked after resolution, in lookup
      const why = refusalOf(host);
      if (why !== undefined) throw refusedError(url.host, why);
    },
  };
}
