/**
 * The `kafka broker` config node's connection side (model: Node-RED's MQTT broker node): a map of
 * users, the broker's connection state pushed to all of them, and one shared admin client that probes
 * the cluster while anyone uses it (so every user shows "broker down" within seconds, with its cause:
 * refused, timeout, DNS, TLS or auth, whatever its own client is busy with) and serves lag figures.
 */
import type { Admin, Kafka } from 'kafkajs';
import { brokerProblem, tlsProblem, type BrokerProblem, type TlsProblem } from '../lib/kafka-errors';
import { errorText, rejectAfter, settleWithin, type BrokerState, type BrokerUser } from './kafka-client';

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
}

const STATE_TEXT = {
  unknown: 'connecting',
  up: 'connected',
  'bad-config': 'broker config',
} as const;

/** The state of each cause of a broker that cannot be used: the status names the cause (TLS: below). */
const PROBLEM_STATE: Record<Exclude<BrokerProblem, 'tls'>, Omit<BrokerState, 'detail'>> = {
  refused: { kind: 'down', text: 'broker down: refused', short: 'refused' },
  timeout: { kind: 'down', text: 'broker down: timeout', short: 'timeout' },
  dns: { kind: 'down', text: 'DNS lookup failed', short: 'DNS failed' },
  auth: { kind: 'auth', text: 'auth failed', short: 'auth failed', hint: 'check the SASL mechanism, username and password' },
  unreachable: { kind: 'down', text: 'broker down', short: 'down' },
};

/** A TLS failure by its cause, with what to change for the log line. */
const TLS_STATE: Record<TlsProblem, Omit<BrokerState, 'detail'>> = {
  'unknown-ca': {
    kind: 'down',
    text: 'TLS: unknown CA',
    hint: "the broker's certificate is not signed by the CA given (or, with CA empty, by one of the system's CAs): paste the broker's CA certificate (PEM) into CA",
  },
  'host-mismatch': {
    kind: 'down',
    text: 'TLS: host mismatch',
    hint: "the broker's certificate does not name the host connected to: use the host name it names (the service's bootstrap address), not an IP address or an alias",
  },
  expired: { kind: 'down', text: 'TLS: cert expired', hint: "a certificate of the broker's has expired (or this machine's clock is wrong)" },
  'not-yet-valid': { kind: 'down', text: 'TLS: cert not yet valid', hint: "a certificate of the broker's is not valid yet: check this machine's clock" },
  'client-cert-required': {
    kind: 'down',
    text: 'TLS: client cert required',
    hint: 'this listener requires mutual TLS: give a client certificate and its private key (PEM)',
  },
  'client-cert-refused': {
    kind: 'down',
    text: 'TLS: client cert refused',
    hint: 'the broker did not accept the client certificate: is it signed by a CA the broker trusts, and still valid?',
  },
  passphrase: { kind: 'down', text: 'TLS: wrong passphrase', hint: 'the private key is encrypted: its passphrase is missing or wrong' },
  'key-mismatch': { kind: 'down', text: 'TLS: key/cert mismatch', hint: 'the private key does not belong to the client certificate' },
  'bad-pem': { kind: 'down', text: 'TLS: bad PEM', hint: 'a certificate or the key is not PEM text (-----BEGIN …-----)' },
  'not-tls': {
    kind: 'down',
    text: 'TLS: not a TLS port',
    hint: 'the broker closed the connection during the TLS handshake: is this port a TLS listener (SSL or SASL_SSL)?',
  },
  other: { kind: 'down', text: 'TLS failed' },
};

export class BrokerConnection {
  readonly users = new Map<string, BrokerUser>();
  state: BrokerState = { kind: 'unknown', text: STATE_TEXT.unknown };
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
  ) {}

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
      this.set({ kind: 'up', text: STATE_TEXT.up });
      return;
    }
    const state = this.stateOf(err);
    // A topic or request error says nothing about the broker's reachability.
    if (state === null) return;
    // A user's generic network failure (a connection closed) adds nothing to a cause already known:
    // keeping it saves a log line per flip between the two.
    if (state.text !== PROBLEM_STATE.unreachable.text || this.state.kind !== 'down') this.set(state);
    if (state.kind === 'down') this.schedule(this.opts.probeDownMs);
  }

  /**
   * The broker state that `err` stands for with these settings, or null when it says nothing about the
   * broker (a topic or request error).
   */
  stateOf(err: unknown): BrokerState | null {
    const p = brokerProblem(err);
    if (p === null) return null;
    const state = p === 'tls' ? TLS_STATE[tlsProblem(err, this.opts.clientCert) ?? 'other'] : PROBLEM_STATE[p];
    return { ...state, detail: errorText(err).trim() };
  }

  /** Put every user in the bad-config state (the settings cannot be used). */
  badConfig(detail: string): void {
    this.set({ kind: 'bad-config', text: STATE_TEXT['bad-config'], detail });
  }

  /** The shared admin client, connected (retries off: a failed call is simply tried again later). */
  admin(): Promise<Admin> {
    if (this.closed || !this.kafka) return Promise.reject(new Error('broker node is closed'));
    if (this.adminP) return this.adminP;
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    const p = rejectAfter(admin.connect(), this.opts.probeTimeoutMs, 'admin connect').then(
      () => admin,
      async (err: unknown) => {
        if (this.adminP === p) this.adminP = null;
        await settleWithin(admin.disconnect().catch(() => undefined), 2000, undefined);
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
      this.set({ kind: 'up', text: STATE_TEXT.up });
    } catch (err) {
      this.set(this.stateOf(err) ?? { ...PROBLEM_STATE.unreachable, detail: errorText(err) });
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
    if (admin) await settleWithin(admin.disconnect().catch(() => undefined), 2000, undefined);
  }
}
