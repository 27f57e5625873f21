/**
 * What a Kafka client error says about the broker connection: the cause of a failed connection
 * (refused, timed out, DNS, TLS and which TLS failure, authentication), whether retrying may help, and
 * which errors are the passing state of a topic that was just created. Framework-free and pure: it reads
 * the `name`, `code`, `type` and `message` of an error and of its `cause` chain (kafkajs wraps the
 * socket's error in a `KafkaJSConnectionError` with its `code`, and that in
 * `KafkaJSNumberOfRetriesExceeded` as `cause`).
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

/**
 * Which TLS failure: `unknown-ca` (the broker's certificate is not signed by a trusted CA: self-signed, or
 * another CA than the one given), `host-mismatch` (the certificate does not name the host connected to),
 * `expired` / `not-yet-valid` (a certificate of the broker's chain, by this machine's clock),
 * `client-cert-required` (the listener wants a client certificate and none was given),
 * `client-cert-refused` (the broker did not accept the client certificate given), `passphrase` (the
 * private key is encrypted and its passphrase is missing or wrong), `key-mismatch` (the key does not
 * belong to the client certificate), `bad-pem` (a certificate or key that is not PEM), `not-tls` (the
 * port closed the connection during the handshake: not a TLS listener), `other`.
 */
export type TlsProblem =
  | 'unknown-ca'
  | 'host-mismatch'
  | 'expired'
  | 'not-yet-valid'
  | 'client-cert-required'
  | 'client-cert-refused'
  | 'passphrase'
  | 'key-mismatch'
  | 'bad-pem'
  | 'not-tls'
  | 'other';

/**
 * The broker's alert for a client certificate that it wants and did not get, or did not accept: a Java
 * broker sends `bad_certificate` for both (an empty chain is a bad one); resolved by whether one was given.
 */
type TlsAlert = TlsProblem | 'client-cert';

/** Node's certificate verification codes, and OpenSSL's codes for the broker's TLS alerts. */
const TLS_CODES: Record<string, TlsAlert> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  CERT_UNTRUSTED: 'unknown-ca',
  ERR_TLS_CERT_ALTNAME_INVALID: 'host-mismatch',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'client-cert-required',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'client-cert',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'client-cert-refused',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'client-cert-refused',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'client-cert-refused',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'client-cert-refused',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'client-cert-refused',
  ERR_MISSING_PASSPHRASE: 'passphrase',
  ERR_OSSL_BAD_DECRYPT: 'passphrase',
  ERR_OSSL_EVP_BAD_DECRYPT: 'passphrase',
  ERR_OSSL_X509_KEY_VALUES_MISMATCH: 'key-mismatch',
  ERR_OSSL_PEM_NO_START_LINE: 'bad-pem',
  ERR_OSSL_UNSUPPORTED: 'bad-pem',
};

/**
 * kafkajs words a failure to build the TLS context (the key and certificates) as `Failed to connect:
 * <OpenSSL's message>`, without its code: these are read from the message. Then the handshake closed by a
 * plaintext listener, and the last resort for any other TLS error.
 */
const TLS_MESSAGES: Array<[RegExp, TlsProblem]> = [
  [/bad decrypt|passphrase/i, 'passphrase'],
  [/key values mismatch/i, 'key-mismatch'],
  [/no start line|DECODER routines|PEM routines|asn1 encoding routines/i, 'bad-pem'],
  [/before secure TLS connection was established|wrong version number|packet length too long/i, 'not-tls'],
  [/certificate|\bSSL\b|\bTLS\b/i, 'other'],
];

/** The TLS failure one error (not its causes) names, or null when it is not a TLS error. */
function tlsAlertOf(e: ErrorLike): TlsAlert | null {
  const code = text(e.code);
  const msg = text(e.message);
  const known = TLS_CODES[code];
  if (known) return known;
  for (const [re, p] of TLS_MESSAGES) if (re.test(msg)) return p;
  // other certificate codes of Node's verification, and OpenSSL's for other alerts
  if (/CERT|^ERR_SSL_|^ERR_TLS_|^EPROTO$/.test(code)) return 'other';
  return null;
}

/**
 * The TLS failure `err` stands for, or null when it is not a TLS error. The most specific cause in the
 * chain wins over `other`. `clientCert`: whether a client certificate was given (a Java broker answers
 * a missing one and a refused one alike).
 */
export function tlsProblem(err: unknown, clientCert: boolean): TlsProblem | null {
  let found: TlsAlert | null = null;
  for (const e of chain(err)) {
    const p = tlsAlertOf(e);
    if (p !== null && p !== 'other') {
      found = p;
      break;
    }
    found ??= p;
  }
  if (found === 'client-cert') return clientCert ? 'client-cert-refused' : 'client-cert-required';
  return found;
}

/** The problem one error (not its causes) names, or null. */
function problemOf(e: ErrorLike): BrokerProblem | null {
  const name = text(e.name);
  const code = text(e.code);
  const msg = text(e.message);
  const type = text(e.type);
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL|AUTHENTICATION|authentication/.test(`${type} ${msg}`)) return 'auth';
  if (code === 'ECONNREFUSED' || /\bECONNREFUSED\b/.test(msg)) return 'refused';
  if (DNS_CODES.has(code) || /\b(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)\b/.test(msg)) return 'dns';
  if (tlsAlertOf(e) !== null) return 'tls';
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

/**
 * Errors that restarting the consumer cannot cure: the broker refuses what this client is (not
 * authorised for the topic, the group or the cluster) or what its settings ask (a session timeout
 * outside the broker's bounds, an invalid group id). kafkajs does not restart on them either; the node
 * stops and says what to fix. A wrong SASL password is not among them: it is often fixed on the broker
 * side, so the consumer keeps trying (with its backoff).
 */
export const FATAL_CONSUMER_ERRORS = [
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_SESSION_TIMEOUT',
  'INVALID_GROUP_ID',
  'INVALID_TOPIC_EXCEPTION',
  'INCONSISTENT_GROUP_PROTOCOL',
  'UNSUPPORTED_VERSION',
] as const;

/** A fatal consumer error's type: what to fix for each is in kafka in's catalogue (nodes/nr/consumer-restarts.ts). */
export type FatalConsumerError = (typeof FATAL_CONSUMER_ERRORS)[number];

const FATAL_TYPES: ReadonlySet<string> = new Set(FATAL_CONSUMER_ERRORS);

/** The error type of a fatal consumer error ({@link FATAL_CONSUMER_ERRORS}), or null. */
export function fatalConsumerError(err: unknown): FatalConsumerError | null {
  for (const e of chain(err)) if (FATAL_TYPES.has(text(e.type))) return text(e.type) as FatalConsumerError;
  return null;
}

/**
 * The producer was fenced: another producer initialised the same transactional id (its partition task
 * moved to another runtime), or the broker refuses this one the id. Looks at the error and 4 causes.
 */
export function isFenced(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: string }).type ?? '';
    if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') return true;
    if (/fenced|INVALID_PRODUCER_EPOCH/i.test((e as Error).message ?? '')) return true;
  }
  return false;
}
