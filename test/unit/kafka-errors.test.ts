import { strict as assert } from 'node:assert';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { brokerProblem, classifyError, fatalConsumerError, isFenced, isRetriable, isTransientMetadataError, isUnknownTopic, tlsProblem } from '../../nodes/lib/kafka-errors';

/** A kafkajs error class called as the library calls it at runtime (its typings declare fewer arguments). */
function make(C: unknown, ...args: unknown[]): Error {
  return new (C as new (...a: unknown[]) => Error)(...args);
}

/** What kafkajs throws when the socket fails: the socket error's text and code, wrapped by the client's retries. */
function connectionError(message: string, code?: string): Error {
  const e = new KafkaJSConnectionError(`Connection error: ${message}`, { broker: '127.0.0.1:9092', code });
  return new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 3, retryTime: 1000 });
}

/** A protocol error as kafkajs makes it from a broker's error code. */
function protocolError(type: string, retriable = true): Error {
  return new KafkaJSProtocolError({ message: `${type} from the broker`, type, code: 3, retriable } as never);
}

describe('kafka-errors > the cause a broker status names', function () {
  it('names a refused connection "refused", through the retries wrapper', function () {
    assert.equal(brokerProblem(connectionError('connect ECONNREFUSED 127.0.0.1:9092', 'ECONNREFUSED')), 'refused');
  });

  it('names a connect or request timeout "timeout"', function () {
    assert.equal(brokerProblem(new KafkaJSConnectionError('Connection timeout', { broker: '10.255.255.1:9092' })), 'timeout');
    assert.equal(brokerProblem(make(KafkaJSRequestTimeoutError, { message: 'Request ApiVersions(key: 18, version: 2) timed out' })), 'timeout');
  });

  it('names a host name that does not resolve "dns" (ENOTFOUND and EAI_AGAIN)', function () {
    assert.equal(brokerProblem(connectionError('getaddrinfo ENOTFOUND kafka.invalid', 'ENOTFOUND')), 'dns');
    assert.equal(brokerProblem(connectionError('getaddrinfo EAI_AGAIN kafka.example', 'EAI_AGAIN')), 'dns');
  });

  it('names certificate and handshake failures "tls"', function () {
    assert.equal(brokerProblem(connectionError('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')), 'tls');
    assert.equal(brokerProblem(connectionError('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET')), 'tls');
    assert.equal(brokerProblem(connectionError('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER')), 'tls');
  });

  it('names a key that cannot be used (kafkajs: "Failed to connect: …", no code) "tls", not "unreachable"', function () {
    const e = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Failed to connect: error:1C800064:Provider routines::bad decrypt'), { retryCount: 0, retryTime: 0 });
    assert.equal(brokerProblem(e), 'tls');
  });

  it('names a SASL failure "auth"', function () {
    assert.equal(brokerProblem(make(KafkaJSSASLAuthenticationError, 'SASL PLAIN authentication failed: Authentication failed')), 'auth');
  });

  it('names any other network failure "unreachable", and says nothing about a request or topic error', function () {
    assert.equal(brokerProblem(connectionError('read ECONNRESET', 'ECONNRESET')), 'unreachable');
    assert.equal(brokerProblem(new KafkaJSConnectionError('Connection closed by the server')), 'unreachable');
    assert.equal(brokerProblem(protocolError('MESSAGE_TOO_LARGE', false)), null);
    assert.equal(brokerProblem(new Error('something else')), null);
    assert.equal(brokerProblem('a string'), null);
    assert.equal(brokerProblem(undefined), null);
  });

  it('prefers the specific cause in a chain over the generic wrapper', function () {
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const wrapped = make(KafkaJSNonRetriableError, new KafkaJSConnectionError('Connection error'), { cause: socket });
    assert.equal(brokerProblem(wrapped), 'refused');
  });

  it('classifies coarsely (auth, down, other) and says what is worth retrying', function () {
    assert.equal(classifyError(connectionError('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')), 'down');
    assert.equal(classifyError(make(KafkaJSSASLAuthenticationError, 'SASL authentication failed')), 'auth');
    assert.equal(classifyError(protocolError('MESSAGE_TOO_LARGE', false)), 'other');
    assert.equal(isRetriable(connectionError('Connection timeout')), true);
    assert.equal(isRetriable(protocolError('LEADER_NOT_AVAILABLE')), true);
    assert.equal(isRetriable(protocolError('MESSAGE_TOO_LARGE', false)), false);
  });
});

describe('kafka-errors > passing errors of a new topic', function () {
  it('counts an unknown topic or partition and a missing leader as passing, not a record or auth error', function () {
    assert.equal(isTransientMetadataError(protocolError('UNKNOWN_TOPIC_OR_PARTITION')), true);
    assert.equal(isTransientMetadataError(new KafkaJSNumberOfRetriesExceeded(protocolError('LEADER_NOT_AVAILABLE'), { retryCount: 5, retryTime: 100 })), true);
    assert.equal(isTransientMetadataError(protocolError('MESSAGE_TOO_LARGE', false)), false);
    assert.equal(isTransientMetadataError(connectionError('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')), false);
  });

  it('tells an unknown topic apart', function () {
    assert.equal(isUnknownTopic(protocolError('UNKNOWN_TOPIC_OR_PARTITION')), true);
    assert.equal(isUnknownTopic(protocolError('LEADER_NOT_AVAILABLE')), false);
  });
});

/**
 * What kafkajs 2.2.4 on Node 20 threw against the local broker's TLS listeners (scripts/kafka/kafka.sh):
 * the socket's code and message in a KafkaJSConnectionError, or OpenSSL's message alone when the key or
 * certificates could not be loaded.
 */
const OPENSSL = (n: string, text: string) => `80ACE11CBF7F0000:error:${n}:SSL routines:ssl3_read_bytes:${text}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number`;
const SEEN: Array<[string, string, Error]> = [
  ['unknown-ca', "the broker's CA not given (the system store, or another CA)", connectionError('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN')],
  ['unknown-ca', 'a self-signed broker certificate', connectionError('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')],
  ['unknown-ca', 'a broker that sends its certificate without the chain', connectionError('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')],
  ['host-mismatch', 'an IP address the certificate does not name', connectionError("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ", 'ERR_TLS_CERT_ALTNAME_INVALID')],
  ['expired', 'an expired broker certificate', connectionError('certificate has expired', 'CERT_HAS_EXPIRED')],
  ['not-yet-valid', 'a broker certificate not valid yet', connectionError('certificate is not yet valid', 'CERT_NOT_YET_VALID')],
  ['client-cert-required', 'no client certificate for a broker that wants one (TLS 1.3 alert 116)', connectionError(`${OPENSSL('0A00045C', 'tlsv13 alert certificate required')} 116\n`, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')],
  ['client-cert-refused', 'a client certificate the broker does not trust (alert 46, a Java broker)', connectionError(`${OPENSSL('0A000416', 'sslv3 alert certificate unknown')} 46\n`, 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN')],
  ['client-cert-refused', 'a client certificate of an unknown CA (alert 48, an OpenSSL broker)', connectionError(`${OPENSSL('0A000418', 'tlsv1 alert unknown ca')} 48\n`, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA')],
  ['passphrase', 'a wrong or missing key passphrase', new KafkaJSConnectionError('Failed to connect: error:1C800064:Provider routines::bad decrypt')],
  ['key-mismatch', 'a key that belongs to another certificate', new KafkaJSConnectionError('Failed to connect: error:05800074:x509 certificate routines::key values mismatch')],
  ['bad-pem', 'a certificate that is not PEM', new KafkaJSConnectionError('Failed to connect: error:0480006C:PEM routines::no start line')],
  ['bad-pem', 'a key that is not PEM', new KafkaJSConnectionError('Failed to connect: error:1E08010C:DECODER routines::unsupported')],
  ['not-tls', 'TLS to a plaintext listener', connectionError('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET')],
  ['other', 'any other handshake failure (alert 40)', connectionError(`${OPENSSL('0A000410', 'sslv3 alert handshake failure')} 40\n`, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE')],
];

describe('kafka-errors > which TLS failure', function () {
  for (const [want, situation, err] of SEEN) {
    it(`names ${situation} "${want}"`, function () {
      assert.equal(brokerProblem(err), 'tls', 'a TLS failure');
      assert.equal(tlsProblem(err, false), want);
    });
  }

  it('tells a missing client certificate from a refused one by whether one was given (a Java broker sends bad_certificate for both)', function () {
    const badCertificate = connectionError(`${OPENSSL('0A000412', 'sslv3 alert bad certificate')} 42\n`, 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
    assert.equal(tlsProblem(badCertificate, false), 'client-cert-required');
    assert.equal(tlsProblem(badCertificate, true), 'client-cert-refused');
  });

  it('says nothing about errors that are not TLS failures', function () {
    assert.equal(tlsProblem(connectionError('connect ECONNREFUSED 127.0.0.1:9095', 'ECONNREFUSED'), false), null);
    assert.equal(tlsProblem(make(KafkaJSSASLAuthenticationError, 'SASL SCRAM SHA512 authentication failed: Authentication failed'), false), null);
    assert.equal(tlsProblem(new KafkaJSConnectionError('Closed connection'), false), null);
    assert.equal(tlsProblem(undefined, false), null);
  });
});

describe('kafka errors > fatal consumer errors (no restart)', function () {
  // KafkaJSProtocolError is built from the broker's error code entry ({ type, code, retriable, message })
  const protocol = (type: string, code: number) => make(KafkaJSProtocolError, { type, code, retriable: false, message: type });

  it('authorization failures and refused settings are fatal, also wrapped in kafkajs\' non-retriable error', function () {
    assert.equal(fatalConsumerError(protocol('TOPIC_AUTHORIZATION_FAILED', 29)), 'TOPIC_AUTHORIZATION_FAILED');
    assert.equal(fatalConsumerError(protocol('GROUP_AUTHORIZATION_FAILED', 30)), 'GROUP_AUTHORIZATION_FAILED');
    const refused = protocol('INVALID_SESSION_TIMEOUT', 26);
    assert.equal(fatalConsumerError(make(KafkaJSNonRetriableError, refused, { cause: refused })), 'INVALID_SESSION_TIMEOUT');
  });

  it('a broker that is down, a wrong SASL password and passing metadata errors are not', function () {
    assert.equal(fatalConsumerError(connectionError('connect ECONNREFUSED 127.0.0.1:9092', 'ECONNREFUSED')), null);
    assert.equal(fatalConsumerError(make(KafkaJSSASLAuthenticationError, 'SASL PLAIN authentication failed')), null);
    assert.equal(fatalConsumerError(make(KafkaJSProtocolError, { type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'x' })), null);
  });
});

describe('kafka errors > a fenced producer (its partition task moved)', function () {
  it('knows the broker\'s fencing errors by type, also as the cause of a wrapping error', function () {
    assert.equal(isFenced(protocolError('PRODUCER_FENCED', false)), true);
    assert.equal(isFenced(protocolError('INVALID_PRODUCER_EPOCH', false)), true);
    assert.equal(isFenced(protocolError('TRANSACTIONAL_ID_AUTHORIZATION_FAILED', false)), true);
    const inner = protocolError('INVALID_PRODUCER_EPOCH', false);
    assert.equal(isFenced(make(KafkaJSNonRetriableError, inner, { cause: inner })), true);
  });

  it('knows kafkajs\' own text of a fenced producer', function () {
    assert.equal(isFenced(new Error('The producer has been fenced by a newer instance')), true);
  });

  it('a connection error, a passing metadata error and a non-error are not', function () {
    assert.equal(isFenced(connectionError('connect ECONNREFUSED 127.0.0.1:9092', 'ECONNREFUSED')), false);
    assert.equal(isFenced(protocolError('UNKNOWN_TOPIC_OR_PARTITION')), false);
    assert.equal(isFenced(undefined), false);
    assert.equal(isFenced('fenced'), false);
  });
});
