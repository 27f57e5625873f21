/**
 * How `kafka in` answers a failed consumer (kafka-consumer.ts): an error that restarting cannot cure
 * stops it, with a line that says what to fix; any other restarts it after a bounded exponential
 * backoff, with one warning per condition, or quietly (a debug line, a yellow status) for a restart that
 * is no failure and for the passing errors of a topic just created. The lines and the status texts are
 * kafka in's (its catalogue).
 */
import { Backoff, type BackoffOptions } from '../lib/kafka-backoff';
import { fatalConsumerError, isTransientMetadataError, type FatalConsumerError } from '../lib/kafka-errors';
import type { OwnState } from './consumer-status';
import type { Translate } from './i18n';
import { errorText } from './kafka-client';
import type { Node } from './types';

/**
 * A topic that was just created (or recreated) has no known leader for a moment, and the consumer's
 * first fetch fails with "This server does not host this topic-partition": such errors restart the
 * consumer quietly (debug log, yellow status) for this long; if they last longer they are reported.
 */
const TRANSIENT_QUIET_MS = 10_000;

/** What to fix for each fatal consumer error (lib/kafka-errors.ts), as kafka in's error line says it. */
const FATAL_HINTS: Record<FatalConsumerError, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'smoke-kafka-in.hint.topic-authorization',
  GROUP_AUTHORIZATION_FAILED: 'smoke-kafka-in.hint.group-authorization',
  CLUSTER_AUTHORIZATION_FAILED: 'smoke-kafka-in.hint.cluster-authorization',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'smoke-kafka-in.hint.transactional-id-authorization',
  INVALID_SESSION_TIMEOUT: 'smoke-kafka-in.hint.session-timeout',
  INVALID_GROUP_ID: 'smoke-kafka-in.hint.group-id',
  INVALID_TOPIC_EXCEPTION: 'smoke-kafka-in.hint.topic',
  INCONSISTENT_GROUP_PROTOCOL: 'smoke-kafka-in.hint.group-protocol',
  UNSUPPORTED_VERSION: 'smoke-kafka-in.hint.version',
};

/** After a failure: the consumer's state and status text, and the wait before the next consumer (null: none). */
export interface AfterFailure {
  own: OwnState;
  text: string;
  delay: number | null;
}

export class ConsumerRestarts {
  private readonly backoff: Backoff;
  /** The condition warned about last ('' once the consumer joined again). */
  private lastWarned = '';
  /** When the current run of transient metadata errors began (0: none); see TRANSIENT_QUIET_MS. */
  private transientSince = 0;

  constructor(
    backoff: BackoffOptions,
    private readonly node: Pick<Node, 'error' | 'warn' | 'log' | 'debug'>,
    private readonly t: Translate,
    /** The broker's status text for an error that is a broker problem (its cause), else undefined. */
    private readonly brokerText: (err: unknown) => string | undefined,
  ) {
    this.backoff = new Backoff(backoff);
  }

  /** The consumer joined the group: the backoff starts over, and a failure warned about is over. */
  joined(): void {
    this.backoff.reset();
    if (this.lastWarned) this.node.log(this.t('smoke-kafka-in.log.consuming-again'));
    this.lastWarned = '';
  }

  /** The member is in the group and sees its topics: it is past any passing metadata errors. */
  inGroup(): void {
    this.transientSince = 0;
  }

  /** The consumer failed with `err` (`quiet`: a restart that is no failure): what to show, say and do. */
  failed(err: unknown, quiet: boolean): AfterFailure {
    const error = errorText(err);
    const fatal = fatalConsumerError(err);
    if (fatal !== null) {
      // Restarting cannot cure it (kafkajs gives up on it too): stop, and say what to fix.
      this.node.error(this.t('smoke-kafka-in.errors.fatal', { error, hint: this.t(FATAL_HINTS[fatal]) }));
      return { own: 'failed', text: this.t('smoke-kafka-in.status.stopped', { error: fatal }), delay: null };
    }
    const delay = this.backoff.next(Math.random());
    const seconds = Math.round(delay / 100) / 10;
    if (quiet || this.passing(err)) {
      this.node.debug(this.t('smoke-kafka-in.log.restarting', { seconds, error }));
      return { own: 'connecting', text: this.t('smoke-kafka-in.status.connecting'), delay };
    }
    // One warning per condition: a broker problem by its cause, anything else by its text.
    const condition = this.brokerText(err) ?? error;
    if (condition !== this.lastWarned) {
      this.lastWarned = condition;
      this.node.warn(this.t('smoke-kafka-in.warn.restarting', { error, seconds }));
    }
    return { own: 'failed', text: condition, delay };
  }

  /** Whether `err` is a passing error of a topic just created, within TRANSIENT_QUIET_MS of the first one. */
  private passing(err: unknown): boolean {
    if (!isTransientMetadataError(err)) return false;
    const now = Date.now();
    if (this.transientSince === 0) this.transientSince = now;
    return now - this.transientSince < TRANSIENT_QUIET_MS;
  }
}
