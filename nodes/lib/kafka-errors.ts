/**
 * What a Kafka client error says about the broker connection: the cause of a failed connection
 * (refused, timed out, DNS, TLS, authentication), whether retrying may help, and which errors are the
 * passing state of a topic that was just created. Framework-free and pure: it reads the `name`, `code`,
 * `type` and `message` of an error and of its `cause` chain (kafkajs wraps the socket's error in a
 * `KafkaJSConnectionError` with its `code`, and that in `KafkaJSNumberOfRetriesExceeded` as `cause`).
 */

/**
 * Why the broker cannot be used: `refused` (nothing listens: ECONNREFUSED), `timeout` (no answer in
 * time), `dns` (the host name does not resolve: ENOTFOUND, EAI_AGAIN), `tls` (the TLS handshake or the
 * certificate failed), `auth` (SASL authentication failed), `unreachable` (any other network failure:
 * reset, closed, no route, no broker available).
 */
export type BrokerProblem = 'refused' | 'timeout' | 'dns' | 'tls' | 'auth' | 'unreachable';

/** How deep a `cause` chain is followed (kafkajs nests two or three levels). */
const MAX_DEPTH = 5;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  type?: unknown;
  message?: unknown;
  retriable?: unknown;
  cause?: unknown;
}

/** The error and its causes, outermost first. */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < MAX_DEPTH; e = (e as ErrorLike).cause, depth++) {
    out.push(e as ErrorLike);
  }
  return out;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);
const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
]);

/** The problem one error (not its causes) names, or null. */
function problemOf(e: ErrorLike): BrokerProblem | null {
  const name = text(e.name);
  const code = text(e.code);
  const msg = text(e.message);
  const type = text(e.type);
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL|AUTHENTICATION|authentication/.test(`${type} ${msg}`)) return 'auth';
  if (code === 'ECONNREFUSED' || /\bECONNREFUSED\b/.test(msg)) return 'refused';
  if (DNS_CODES.has(code) || /\b(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)\b/.test(msg)) return 'dns';
  // Node's TLS errors: certificate codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, …), ERR_SSL_* and
  // ERR_TLS_*, and a plaintext listener that drops the handshake ("… before secure TLS connection …").
  if (/CERT|^ERR_SSL_|^ERR_TLS_|^EPROTO$/.test(code) || /certificate|\bSSL\b|\bTLS\b|wrong version number/i.test(msg)) return 'tls';
  if (
    name === 'KafkaJSRequestTimeoutError' ||
    code === 'ETIMEDOUT' ||
    /\bETIMEDOUT\b|Connection timeout|timed out/i.test(msg)
  ) {
    return 'timeout';
  }
  if (UNREACHABLE_NAMES.has(name) || /ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|Connection (error|closed)|Closed connection/i.test(`${code} ${msg}`)) {
    return 'unreachable';
  }
  return null;
}

/**
 * What `err` says about the broker connection, or null when it says nothing about it (a topic or
 * request error such as a record that is too large). The most specific cause in the chain wins: a
 * `KafkaJSConnectionError` ("unreachable") caused by ECONNREFUSED is `refused`.
 */
export function brokerProblem(err: unknown): BrokerProblem | null {
  let found: BrokerProblem | null = null;
  for (const e of chain(err)) {
    const p = problemOf(e);
    if (p !== null && p !== 'unreachable') return p;
    found ??= p;
  }
  return found;
}

/** Coarse classification: authentication, broker unreachable (any other {@link BrokerProblem}), or anything else. */
export function classifyError(err: unknown): 'auth' | 'down' | 'other' {
  const p = brokerProblem(err);
  return p === null ? 'other' : p === 'auth' ? 'auth' : 'down';
}

/** True when retrying the same request may succeed (broker down, timeouts, leadership changes). */
export function isRetriable(err: unknown): boolean {
  if (classifyError(err) === 'down') return true;
  return chain(err).some((e) => e.retriable === true);
}

/**
 * Protocol errors a consumer meets while a topic is being created or its partitions move (leadership
 * not yet known, the coordinator still loading): retriable, and over within seconds.
 */
const TRANSIENT_TYPES = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'REPLICA_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

/** True for the passing errors of a topic that was just (re)created or whose leaders are moving. */
export function isTransientMetadataError(err: unknown): boolean {
  return chain(err).some((e) => TRANSIENT_TYPES.has(text(e.type)));
}

/** True when the broker answered that the topic (or partition) does not exist. */
export function isUnknownTopic(err: unknown): boolean {
  return chain(err).some((e) => text(e.type) === 'UNKNOWN_TOPIC_OR_PARTITION');
}
