import { strict as assert } from 'node:assert';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { brokerProblem, classifyError, isRetriable, isTransientMetadataError, isUnknownTopic } from '../../nodes/lib/kafka-errors';

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
