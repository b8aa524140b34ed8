import { type Ipv4Address, ipv4Address, parseIpv4Address } from '../wire/address.js';
import { DNS_PORT, DnsPacket, type DnsRecord, type DnsRepr, DnsTypeValue, emitDns, parseDns } from '../wire/dns.js';
import { NetError } from '../errors.js';
import { UnreachableCode } from '../wire/icmpv4.js';
import type { Inet } from '../iface/inet.js';
import type { TcpSocket } from '../socket/tcp/tcp-socket.js';

export interface DnsResolverOptions {
  /** The servers to ask, in order; `inet.dnsServers` at the time of each resolve when absent. */
  servers?: (Ipv4Address | string)[];
  /** How long one attempt waits for its answer, in ms (default 2000); a TCP retry gets as long again. */
  timeoutMs?: number;
  /** Queries sent for one name before giving up, cycling through the servers (default 3). */
  attempts?: number;
  /** Names remembered at most, answers and NXDOMAINs together (default 256; 0 caches nothing). */
  cacheSize?: number;
  /** The longest an NXDOMAIN is remembered, whatever the zone's SOA says (default 300). */
  maxNegativeTtlSeconds?: number;
}

export type DnsResolveError =
  | 'not-found'
  | 'no-data'
  | 'timeout'
  | 'server-failure'
  | 'refused'
  | 'unreachable'
  | 'invalid-name'
  | 'no-servers'
  | 'unconfigured'
  | 'cname-loop'
  | 'invalid-response';

export type DnsResolveResult =
  | {
      ok: true;
      /** The name asked for, without a trailing dot. */
      name: string;
      /** The name the addresses belong to, at the end of any CNAME chain (the name asked for when there is none). */
      canonicalName: string;
      addresses: Ipv4Address[];
      /**
       * Seconds the answer stays valid: the smallest TTL along the chain (what is left of it on a cache hit);
       * 2147483647 (RFC 2181's largest TTL) for an IPv4 literal, which never goes stale.
       */
      ttlSeconds: number;
      fromCache: boolean;
    }
  | { ok: false; error: DnsResolveError };

/** What a lookup of one name found, shared by every caller waiting on it. */
type Lookup = { ok: true; canonicalName: string; addresses: Ipv4Address[]; ttlSeconds: number } | { ok: false; error: DnsResolveError };

/** How one exchange with one server ended. */
type Exchange =
  | { kind: 'reply'; reply: DnsRepr }
  | { kind: 'failed'; reason: 'timeout' | 'invalid-response' | 'server-failure' | 'unreachable' | 'unconfigured' }
  | { kind: 'closed' };

type CacheEntry =
  | { positive: true; canonicalName: string; addresses: Ipv4Address[]; expiresAt: number }
  | { positive: false; expiresAt: number };

/** An exchange in progress, so close() can end it. */
interface Pending {
  finish(outcome: Exchange): void;
  readonly done: boolean;
}

const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;
const MAX_LABEL_LENGTH = 63;
/** Of a name in text, without the trailing dot (255 on the wire). */
const MAX_NAME_LENGTH = 253;
/** CNAMEs followed for one resolve, over every query it takes. */
const MAX_CHAIN = 8;
/** RFC 2181 §8: a TTL with the top bit set counts as 0. */
const MAX_TTL = 0x7fffffff;
/** The `ttlSeconds` of an address literal: it never goes stale. */
const LITERAL_TTL = MAX_TTL;
/** The 20 fixed bytes that end an SOA's rdata; MINIMUM is the last 4. */
const SOA_FIXED_LENGTH = 20;

const lower = (name: string): string => name.toLowerCase();

/** The name without its trailing dot, if it is a host name we can send: labels of 1..63 printable ASCII bytes, 253 in all. */
function normalizedName(name: string): string | undefined {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > MAX_NAME_LENGTH) return undefined;
  for (const label of bare.split('.')) {
    if (label.length === 0 || label.length > MAX_LABEL_LENGTH) return undefined;
    for (let i = 0; i < label.length; i++) {
      const code = label.charCodeAt(i);
      // No spaces, control bytes, non-ASCII or backslashes: what parseDns reads back is then the same text.
      if (code <= 0x20 || code >= 0x7f || code === 0x5c) return undefined;
    }
  }
  return bare;
}

const ttlOf = (record: DnsRecord): number => (record.ttl > MAX_TTL ? 0 : record.ttl);

/** Whether `name` is `zone` or below it (case-insensitively; '' is the root). */
function within(name: string, zone: string): boolean {
  const n = lower(name);
  const z = lower(zone);
  return z === '' || n === z || n.endsWith(`.${z}`);
}

/** The negative TTL an NXDOMAIN carries (RFC 2308 §5: the lesser of the SOA's TTL and MINIMUM), or undefined without an SOA. */
function negativeTtl(reply: DnsRepr, name: string): number | undefined {
  for (const record of reply.authorities) {
    if (record.type !== DnsTypeValue.soa || record.class !== CLASS_IN || record.data.kind !== 'unknown') continue;
    if (!within(name, record.name)) continue;
    const data = record.data.data;
    if (data.length < SOA_FIXED_LENGTH) continue;
    const at = data.length - 4;
    const minimum = ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
    return Math.min(ttlOf(record), minimum > MAX_TTL ? 0 : minimum);
  }
  return undefined;
}

/**
 * A DNS stub resolver (RFC 1035, RFC 2308, RFC 5452) for one Inet: it asks recursive servers for the A
 * records of a name, follows CNAME chains, retries over TCP when an answer comes back truncated, and
 * caches answers and NXDOMAINs.
 *
 * Invariants:
 * - `resolve` never throws and never rejects: every outcome is a `DnsResolveResult`. Options that make no
 *   sense throw a NetError from the constructor (programmer misuse).
 * - Every query goes out from a fresh random ephemeral UDP port with a fresh random 16-bit ID, and that
 *   socket is closed when the attempt ends. A reply is taken only when it comes from the server asked, from
 *   port 53, with our ID, the QR bit, opcode QUERY and our one question (name, type A, class IN, name
 *   case-insensitively); anything else is dropped and the attempt keeps waiting, so a blind spoofer must
 *   guess both port and ID. Nothing from a reply is believed beyond the chain that starts at our name.
 * - One attempt waits `timeoutMs`; `attempts` attempts in all, cycling through the servers. SERVFAIL,
 *   REFUSED and other failure codes move on to the next attempt at once.
 * - At most one query per name (case-insensitively) is in flight: concurrent resolves share it.
 * - CNAME chains are followed from the name asked, at most 8 links over all the queries one resolve takes;
 *   a name met twice or a longer chain is 'cname-loop'.
 * - The cache holds at most `cacheSize` names (the least recently used go first), keyed by lower-case
 *   name; an answer lives for the smallest TTL along its chain (TTL 0 is not kept), an NXDOMAIN for its
 *   SOA's negative TTL capped by `maxNegativeTtlSeconds` (none without an SOA). Expiry follows
 *   `inet.clock`; reconfiguring the interface empties the cache.
 * - After `close()` nothing is pending: exchanges in progress end (their resolves answer 'timeout'), their
 *   sockets and connections are closed and their timers cancelled; later resolves answer 'timeout'.
 */
export class DnsResolver {
  private readonly servers: Ipv4Address[] | undefined;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly cacheSize: number;
  private readonly maxNegativeTtlSeconds: number;
  /** Insertion order is recency order: a hit moves its entry to the end, eviction takes from the front. */
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<Lookup>>();
  private readonly pending = new Set<Pending>();
  private readonly stopWatching: () => void;
  private closed = false;

  constructor(
    private readonly inet: Inet,
    options: DnsResolverOptions = {},
  ) {
    this.servers = options.servers?.map((s) => (typeof s === 'string' ? ipv4Address(s) : s));
    this.timeoutMs = checked('timeoutMs', options.timeoutMs ?? 2000, 1, false);
    this.attempts = checked('attempts', options.attempts ?? 3, 1, true);
    this.cacheSize = checked('cacheSize', options.cacheSize ?? 256, 0, true);
    this.maxNegativeTtlSeconds = checked('maxNegativeTtlSeconds', options.maxNegativeTtlSeconds ?? 300, 0, false);
    this.stopWatching = inet.onConfigured(() => this.clearCache());
  }

  /** The A records of `name` (through its CNAMEs), or an IPv4 literal's own address at once. */
  async resolve(name: string): Promise<DnsResolveResult> {
    const literal = parseIpv4Address(name);
    if (literal !== undefined) {
      return { ok: true, name, canonicalName: name, addresses: [literal], ttlSeconds: LITERAL_TTL, fromCache: false };
    }
    const bare = normalizedName(name);
    if (bare === undefined) return { ok: false, error: 'invalid-name' };
    if (this.closed) return { ok: false, error: 'timeout' };
    const key = lower(bare);
    const cached = this.cached(key);
    if (cached) {
      if (!cached.positive) return { ok: false, error: 'not-found' };
      const ttlSeconds = Math.ceil((cached.expiresAt - this.inet.clock.now()) / 1000);
      return { ok: true, name: bare, canonicalName: cached.canonicalName, addresses: [...cached.addresses], ttlSeconds, fromCache: true };
    }
    let lookup = this.inFlight.get(key);
    if (!lookup) {
      if (!this.inet.configured) return { ok: false, error: 'unconfigured' };
      const servers = this.servers ?? this.inet.dnsServers;
      if (servers.length === 0) return { ok: false, error: 'no-servers' };
      lookup = this.lookup(bare, key, [...servers]);
      this.inFlight.set(key, lookup);
      const started = lookup;
      void started.then(() => {
        if (this.inFlight.get(key) === started) this.inFlight.delete(key);
      });
    }
    const found = await lookup;
    if (!found.ok) return found;
    return {
      ok: true,
      name: bare,
      canonicalName: found.canonicalName,
      addresses: [...found.addresses],
      ttlSeconds: found.ttlSeconds,
      fromCache: false,
    };
  }

  /** Forgets every cached answer and NXDOMAIN. */
  clearCache(): void {
    this.cache.clear();
  }

  /** Live cache entries (answers and NXDOMAINs). */
  get cacheEntries(): number {
    const now = this.inet.clock.now();
    for (const [key, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(key);
    return this.cache.size;
  }

  /** Ends every exchange in progress (their resolves answer 'timeout') and stops; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    for (const pending of [...this.pending]) pending.finish({ kind: 'closed' });
    this.cache.clear();
  }

  // ---------------------------------------------------------------- the cache

  private cached(key: string): CacheEntry | undefined {
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    this.cache.delete(key);
    if (entry.expiresAt <= this.inet.clock.now()) return undefined;
    this.cache.set(key, entry);
    return entry;
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.closed || this.cacheSize === 0) return;
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size <= this.cacheSize) return;
    const now = this.inet.clock.now();
    for (const [k, e] of this.cache) if (e.expiresAt <= now) this.cache.delete(k);
    for (const k of this.cache.keys()) {
      if (this.cache.size <= this.cacheSize) break;
      this.cache.delete(k);
    }
  }

  // ---------------------------------------------------------------- following the chain

  /** Queries `name`, and the end of its CNAME chain again while the answers stop short of A records. */
  private async lookup(name: string, key: string, servers: Ipv4Address[]): Promise<Lookup> {
    const seen = new Set<string>([key]);
    let links = 0;
    let ttl = MAX_TTL;
    let current = name;
    for (;;) {
      const answered = await this.query(current, servers);
      if (this.closed) return { ok: false, error: 'timeout' };
      if (!answered.ok) return answered;
      const reply = answered.reply;
      if (reply.responseCode === RCODE_NXDOMAIN) {
        const negative = negativeTtl(reply, current);
        if (negative !== undefined) {
          const seconds = Math.min(negative, ttl, this.maxNegativeTtlSeconds);
          if (seconds > 0) this.remember(key, { positive: false, expiresAt: this.inet.clock.now() + seconds * 1000 });
        }
        return { ok: false, error: 'not-found' };
      }
      // Walk the answer section from the name asked.
      let target = current;
      for (;;) {
        const wanted = lower(target);
        const owned = reply.answers.filter((r) => r.class === CLASS_IN && lower(r.name) === wanted);
        const addresses: Ipv4Address[] = [];
        let addressTtl = MAX_TTL;
        for (const record of owned) {
          if (record.data.kind !== 'a') continue;
          if (!addresses.includes(record.data.address)) addresses.push(record.data.address);
          addressTtl = Math.min(addressTtl, ttlOf(record));
        }
        if (addresses.length > 0) {
          const ttlSeconds = Math.min(ttl, addressTtl);
          if (ttlSeconds > 0) {
            this.remember(key, { positive: true, canonicalName: target, addresses, expiresAt: this.inet.clock.now() + ttlSeconds * 1000 });
          }
          return { ok: true, canonicalName: target, addresses: [...addresses], ttlSeconds };
        }
        const alias = owned.find((r) => r.data.kind === 'cname');
        if (alias?.data.kind !== 'cname') break;
        const next = alias.data.name;
        if (++links > MAX_CHAIN || seen.has(lower(next))) return { ok: false, error: 'cname-loop' };
        seen.add(lower(next));
        ttl = Math.min(ttl, ttlOf(alias));
        target = next;
      }
      // No A records at the end of the chain: NODATA for the name asked, else ask for where it ended.
      if (target === current) return { ok: false, error: 'no-data' };
      if (normalizedName(target) === undefined) return { ok: false, error: 'invalid-response' };
      current = target;
    }
  }

  // ---------------------------------------------------------------- attempts

  /** The first NOERROR or NXDOMAIN answer over `attempts` attempts, or why there was none. */
  private async query(name: string, servers: Ipv4Address[]): Promise<{ ok: true; reply: DnsRepr } | { ok: false; error: DnsResolveError }> {
    let answered = 0;
    let refused = 0;
    let invalid = false;
    let unreachable = 0;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      const server = servers[attempt % servers.length]!;
      const id = this.inet.random.uint32() & 0xffff;
      const query = queryBytes(name, id);
      if (!query) return { ok: false, error: 'invalid-name' };
      let exchange = await this.exchangeUdp(server, name, id, query);
      if (exchange.kind === 'reply' && exchange.reply.truncated) exchange = await this.exchangeTcp(server, name, id, query);
      if (exchange.kind === 'closed' || this.closed) return { ok: false, error: 'timeout' };
      if (exchange.kind === 'failed') {
        if (exchange.reason === 'unconfigured') return { ok: false, error: 'unconfigured' };
        if (exchange.reason === 'invalid-response') invalid = true;
        if (exchange.reason === 'server-failure') answered++;
        if (exchange.reason === 'unreachable') unreachable++;
        continue;
      }
      const code = exchange.reply.responseCode;
      if (code === RCODE_NOERROR || code === RCODE_NXDOMAIN) return { ok: true, reply: exchange.reply };
      // SERVFAIL, REFUSED and any other code: the next attempt, maybe another server, may do better.
      answered++;
      if (code === RCODE_REFUSED) refused++;
    }
    if (answered > 0) return { ok: false, error: refused === answered ? 'refused' : 'server-failure' };
    if (unreachable === this.attempts) return { ok: false, error: 'unreachable' };
    return { ok: false, error: invalid ? 'invalid-response' : 'timeout' };
  }

  /**
   * An exchange in progress, ended once: by its answer, a failure, the per-attempt timeout (with what
   * `timedOut` says) or close(). Ending it cancels the timer and runs `release` before resolving.
   */
  private begin(resolve: (outcome: Exchange) => void, release: (outcome: Exchange) => void, timedOut: () => Exchange): Pending {
    let done = false;
    const pending: Pending = {
      get done() {
        return done;
      },
      finish: (outcome) => {
        if (done) return;
        done = true;
        timer.cancel();
        this.pending.delete(pending);
        release(outcome);
        resolve(outcome);
      },
    };
    const timer = this.inet.clock.setTimer(this.timeoutMs, () => pending.finish(timedOut()));
    this.pending.add(pending);
    return pending;
  }

  /** One query over UDP from a fresh ephemeral port; spoofed or stray datagrams are dropped while it waits. */
  private exchangeUdp(server: Ipv4Address, name: string, id: number, query: Uint8Array): Promise<Exchange> {
    return new Promise((resolve) => {
      const bound = this.inet.udp.bind();
      if (!bound.ok) {
        resolve({ kind: 'failed', reason: 'timeout' });
        return;
      }
      const socket = bound.socket;
      let sawInvalid = false;
      const pending = this.begin(
        resolve,
        () => socket.close(),
        () => ({ kind: 'failed', reason: sawInvalid ? 'invalid-response' : 'timeout' }),
      );
      // UDP -> DNS
      socket.onMessage((message) => {
        if (message.source !== server || message.sourcePort !== DNS_PORT) return;
        const verdict = checkReply(message.data.slice(), id, name);
        if (verdict === 'ignore') return;
        if (verdict === 'invalid') {
          sawInvalid = true;
          return;
        }
        pending.finish({ kind: 'reply', reply: verdict });
      });
      // ICMP -> DNS: nothing listens on the server's port 53; no use waiting out the timeout.
      socket.onError((error) => {
        if (error.destination === server && error.port === DNS_PORT && error.code === UnreachableCode.port) {
          pending.finish({ kind: 'failed', reason: 'unreachable' });
        }
      });
      const sent = socket.send(server, DNS_PORT, query);
      if (!sent.ok) pending.finish({ kind: 'failed', reason: sent.error === 'unconfigured' ? 'unconfigured' : 'timeout' });
    });
  }

  /** The same query over TCP (RFC 7766), two-byte length framing, after a truncated UDP answer. */
  private exchangeTcp(server: Ipv4Address, name: string, id: number, query: Uint8Array): Promise<Exchange> {
    return new Promise((resolve) => {
      const start = this.inet.tcp.connect(server, DNS_PORT);
      if (!start.ok) {
        resolve({ kind: 'failed', reason: start.error === 'unconfigured' ? 'unconfigured' : 'server-failure' });
        return;
      }
      const connection: TcpSocket = start.connection;
      const chunks: Uint8Array[] = [];
      let received = 0;
      const pending = this.begin(
        resolve,
        (outcome) => (outcome.kind === 'reply' ? connection.close() : connection.abort()),
        () => ({ kind: 'failed', reason: 'timeout' }),
      );
      // TCP -> DNS
      connection.onData((data) => {
        if (pending.done) return;
        chunks.push(data);
        received += data.length;
        if (received < 2) return;
        const bytes = joined(chunks, received);
        const length = (bytes[0]! << 8) | bytes[1]!;
        if (received < 2 + length) return;
        const verdict = checkReply(bytes.slice(2, 2 + length), id, name);
        // Nobody can inject into the connection blind: a bad answer here is the server's.
        pending.finish(
          verdict === 'ignore' || verdict === 'invalid'
            ? { kind: 'failed', reason: 'invalid-response' }
            : { kind: 'reply', reply: verdict },
        );
      });
      connection.onEnd(() => pending.finish({ kind: 'failed', reason: 'invalid-response' }));
      connection.onClose(() => pending.finish({ kind: 'failed', reason: 'server-failure' }));
      const framed = new Uint8Array(2 + query.length);
      framed[0] = query.length >>> 8;
      framed[1] = query.length & 0xff;
      framed.set(query, 2);
      const written = connection.write(framed);
      if (!written.ok || written.accepted < framed.length) pending.finish({ kind: 'failed', reason: 'server-failure' });
    });
  }
}

function checked(option: string, value: number, minimum: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < minimum || (integer && !Number.isInteger(value))) {
    throw new NetError('invalid-option', `${option} must be ${integer ? 'an integer' : 'a finite number'} >= ${minimum}, not ${value}`);
  }
  return value;
}

/** The query message: our ID, RD set, one question (name, A, IN); undefined if the name cannot be sent. */
function queryBytes(name: string, id: number): Uint8Array | undefined {
  const repr: DnsRepr = {
    id,
    response: false,
    opcode: 0,
    authoritative: false,
    truncated: false,
    recursionDesired: true,
    recursionAvailable: false,
    responseCode: 0,
    questions: [{ name, type: DnsTypeValue.a, class: CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
  try {
    // A name that passed normalizedName always fits; a NetError here would be our bug, not the caller's.
    const buffer = new Uint8Array(512);
    return buffer.slice(0, emitDns(repr, buffer));
  } catch {
    return undefined;
  }
}

/**
 * 'ignore' for what is not an answer to our ID (stray or spoofed), 'invalid' for an answer to our ID that
 * does not parse or does not echo our question, else the parsed answer.
 */
function checkReply(bytes: Uint8Array, id: number, name: string): DnsRepr | 'ignore' | 'invalid' {
  const packet = DnsPacket.checked(bytes);
  if (!packet.ok || packet.value.id !== id || !packet.value.response) return 'ignore';
  const parsed = parseDns(packet.value);
  if (!parsed.ok) return 'invalid';
  const reply = parsed.value;
  const question = reply.questions[0];
  if (
    reply.opcode !== 0 ||
    reply.questions.length !== 1 ||
    !question ||
    question.type !== DnsTypeValue.a ||
    question.class !== CLASS_IN ||
    lower(question.name) !== lower(name)
  )
    return 'invalid';
  return reply;
}

function joined(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  chunks.length = 0;
  chunks.push(out);
  return out;
}
