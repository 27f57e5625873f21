/**
 * The `kafka broker` config node's connection side (model: Node-RED's MQTT broker node): a map of
 * users, the broker's connection state pushed to all of them, and one shared admin client that probes
 * the cluster while anyone uses it (so every user shows "broker down" within seconds, with its cause:
 * refused, timeout, DNS, TLS or auth, whatever its own client is busy with) and serves lag figures.
 */
import type { Admin, Kafka } from 'kafkajs';
import { brokerProblem, tlsProblem, type BrokerProblem, type TlsProblem } from '../lib/kafka-errors';
import type { Translate } from './i18n';
import { disconnectWithin, errorText, rejectAfter, settleWithin, type BrokerState, type BrokerUser } from './kafka-client';

export interface ConnectionOptions {
  /** Probe interval while the broker answers, ms. */
  probeMs: number;
  /** Probe interval while it does not, ms (shorter: users see recovery quickly). */
  probeDownMs: number;
  /** Bound of one probe (connect + describeCluster), ms. */
  probeTimeoutMs: number;
  /** Whether the settings give a client certificate (it tells a refused certificate from a missing one). */
  clientCert: boolean;
  /** Called on every state change (the config node logs it). */
  onChange?: (state: BrokerState) => void;
  /** The kafka broker node's `RED._`: the states' texts come from its catalogue. */
  t: Translate;
}

/**
 * The states, as catalogue keys of the kafka broker node (nodes/nr/i18n.ts): `text` is the status
 * (under 20 characters), `short` the cause alone for a status that adds its own figures, `hint` what to
 * change (for the log line). Resolved once, when the connection is made.
 */
type StateKeys = Omit<BrokerState, 'detail'>;

const STATE_KEYS = {
  unknown: { kind: 'unknown', text: 'smoke-kafka-broker.status.connecting' },
  up: { kind: 'up', text: 'smoke-kafka-broker.status.connected' },
  'bad-config': { kind: 'bad-config', text: 'smoke-kafka-broker.status.bad-config' },
} as const satisfies Record<string, StateKeys>;

/** The state of each cause of a broker that cannot be used: the status names the cause (TLS: below). */
const PROBLEM_KEYS: Record<Exclude<BrokerProblem, 'tls'>, StateKeys> = {
  refused: { kind: 'down', text: 'smoke-kafka-broker.status.refused', short: 'smoke-kafka-broker.short.refused' },
  timeout: { kind: 'down', text: 'smoke-kafka-broker.status.timeout', short: 'smoke-kafka-broker.short.timeout' },
  dns: { kind: 'down', text: 'smoke-kafka-broker.status.dns', short: 'smoke-kafka-broker.short.dns' },
  auth: { kind: 'auth', text: 'smoke-kafka-broker.status.auth', short: 'smoke-kafka-broker.short.auth', hint: 'smoke-kafka-broker.hint.auth' },
  unreachable: { kind: 'down', text: 'smoke-kafka-broker.status.unreachable', short: 'smoke-kafka-broker.short.unreachable' },
};

/** A TLS failure by its cause, with what to change for the log line. */
const TLS_KEYS: Record<TlsProblem, StateKeys> = {
  'unknown-ca': { kind: 'down', text: 'smoke-kafka-broker.status.tls.unknown-ca', hint: 'smoke-kafka-broker.hint.tls.unknown-ca' },
  'host-mismatch': { kind: 'down', text: 'smoke-kafka-broker.status.tls.host-mismatch', hint: 'smoke-kafka-broker.hint.tls.host-mismatch' },
  expired: { kind: 'down', text: 'smoke-kafka-broker.status.tls.expired', hint: 'smoke-kafka-broker.hint.tls.expired' },
  'not-yet-valid': { kind: 'down', text: 'smoke-kafka-broker.status.tls.not-yet-valid', hint: 'smoke-kafka-broker.hint.tls.not-yet-valid' },
  'client-cert-required': {
    kind: 'down',
    text: 'smoke-kafka-broker.status.tls.client-cert-required',
    hint: 'smoke-kafka-broker.hint.tls.client-cert-required',
  },
  'client-cert-refused': {
    kind: 'down',
    text: 'smoke-kafka-broker.status.tls.client-cert-refused',
    hint: 'smoke-kafka-broker.hint.tls.client-cert-refused',
  },
  passphrase: { kind: 'down', text: 'smoke-kafka-broker.status.tls.passphrase', hint: 'smoke-kafka-broker.hint.tls.passphrase' },
  'key-mismatch': { kind: 'down', text: 'smoke-kafka-broker.status.tls.key-mismatch', hint: 'smoke-kafka-broker.hint.tls.key-mismatch' },
  'bad-pem': { kind: 'down', text: 'smoke-kafka-broker.status.tls.bad-pem', hint: 'smoke-kafka-broker.hint.tls.bad-pem' },
  'not-tls': { kind: 'down', text: 'smoke-kafka-broker.status.tls.not-tls', hint: 'smoke-kafka-broker.hint.tls.not-tls' },
  other: { kind: 'down', text: 'smoke-kafka-broker.status.tls.other' },
};

function resolve(t: Translate, k: StateKeys): StateKeys {
  return { kind: k.kind, text: t(k.text), ...(k.short ? { short: t(k.short) } : {}), ...(k.hint ? { hint: t(k.hint) } : {}) };
}

function resolveAll<K extends string>(t: Translate, table: Record<K, StateKeys>): Record<K, StateKeys> {
  const out = {} as Record<K, StateKeys>;
  for (const k of Object.keys(table) as K[]) out[k] = resolve(t, table[k]);
  return out;
}

export class BrokerConnection {
  readonly users = new Map<string, BrokerUser>();
  state: BrokerState;
  private readonly states: Record<keyof typeof STATE_KEYS, StateKeys>;
  private readonly problems: Record<Exclude<BrokerProblem, 'tls'>, StateKeys>;
  private readonly tls: Record<TlsProblem, StateKeys>;
  private adminP: Promise<Admin> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  private closed = false;

  /**
   * `kafka` serves the probe and the admin client only. Give it client-level retries off: kafkajs
   * connects with the client's retry schedule, whatever the admin's own, and a probe bound cut short
   * by it reads as a timeout instead of the cause (a refused connection showed as "admin connect timed
   * out"). Without retries a failed connect fails at once, with its own cause.
   */
  constructor(
    private readonly kafka: Kafka | null,
    private readonly opts: ConnectionOptions,
  ) {
    this.states = resolveAll(opts.t, STATE_KEYS);
    this.problems = resolveAll(opts.t, PROBLEM_KEYS);
    this.tls = resolveAll(opts.t, TLS_KEYS);
    this.state = this.states.unknown;
  }

  register(user: BrokerUser): void {
    this.users.set(user.id, user);
    user.brokerState(this.state);
    if (this.users.size === 1 && this.kafka) this.schedule(0);
  }

  deregister(user: BrokerUser): void {
    if (this.users.get(user.id) === user) this.users.delete(user.id);
    if (this.users.size === 0) this.idle();
  }

  report(ok: boolean, err?: unknown): void {
    if (ok) {
      this.set(this.states.up);
      return;
    }
    const state = this.stateOf(err);
    // A topic or request error says nothing about the broker's reachability.
    if (state === null) return;
    // A user's generic network failure (a connection closed) adds nothing to a cause already known:
    // keeping it saves a log line per flip between the two.
    if (state.text !== this.problems.unreachable.text || this.state.kind !== 'down') this.set(state);
    if (state.kind === 'down') this.schedule(this.opts.probeDownMs);
  }

  /**
   * The broker state that `err` stands for with these settings, or null when it says nothing about the
   * broker (a topic or request error).
   */
  stateOf(err: unknown): BrokerState | null {
    const p = brokerProblem(err);
    if (p === null) return null;
    const state = p === 'tls' ? this.tls[tlsProblem(err, this.opts.clientCert) ?? 'other'] : this.problems[p];
    return { ...state, detail: errorText(err).trim() };
  }

  /** Put every user in the bad-config state (the settings cannot be used). */
  badConfig(detail: string): void {
    this.set({ ...this.states['bad-config'], detail });
  }

  /** The shared admin client, connected (retries off: a failed call is simply tried again later). */
  admin(): Promise<Admin> {
    if (this.closed || !this.kafka) return Promise.reject(new Error(this.opts.t('smoke-kafka-broker.errors.closed')));
    if (this.adminP) return this.adminP;
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    const p = rejectAfter(admin.connect(), this.opts.probeTimeoutMs, 'admin connect').then(
      () => admin,
      async (err: unknown) => {
        if (this.adminP === p) this.adminP = null;
        await disconnectWithin(admin, 2000);
        throw err;
      },
    );
    this.adminP = p;
    return p;
  }

  /** Stop probing and disconnect the admin client; resolves within a few seconds in any case. */
  async close(): Promise<void> {
    this.closed = true;
    this.idle();
    if (this.probing) await settleWithin(this.probing, 3000, undefined);
  }

  private set(state: BrokerState): void {
    if (state.kind === this.state.kind && state.text === this.state.text) return;
    this.state = state;
    this.opts.onChange?.(state);
    for (const u of [...this.users.values()]) {
      try {
        u.brokerState(state);
      } catch {
        // one user's status problem must not keep the others from hearing the news
      }
    }
  }

  private schedule(ms: number): void {
    if (this.closed || this.users.size === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.probe();
    }, ms);
  }

  private probe(): Promise<void> {
    if (this.probing) return this.probing;
    const run = this.runProbe();
    this.probing = run;
    const done = () => {
      if (this.probing === run) this.probing = null;
      this.schedule(this.state.kind === 'up' ? this.opts.probeMs : this.opts.probeDownMs);
    };
    run.then(done, done);
    return run;
  }

  private async runProbe(): Promise<void> {
    try {
      const admin = await this.admin();
      await rejectAfter(admin.describeCluster(), this.opts.probeTimeoutMs, 'describeCluster');
      this.set(this.states.up);
    } catch (err) {
      this.set(this.stateOf(err) ?? { ...this.problems.unreachable, detail: errorText(err) });
      await this.dropAdmin();
    }
  }

  private idle(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.dropAdmin();
  }

  private async dropAdmin(): Promise<void> {
    const p = this.adminP;
    this.adminP = null;
    if (!p) return;
    const admin = await p.catch(() => null);
    if (admin) await disconnectWithin(admin, 2000);
  }
}
