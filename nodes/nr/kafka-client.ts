/**
 * What `kafka in` and `kafka out` share about the `kafka broker` config node: its interface (model:
 * Node-RED's MQTT broker node: users register, the config node pushes connection state to all of them),
 * bounded waits, and the per-node-id shutdown registry that keeps a redeployed
 * node from running a second Kafka client next to its predecessor's.
 */
import type { Admin, Kafka } from 'kafkajs';
import { reportBadConfig } from './errors';
import { shared } from './i18n';
import { setStatus } from './status';
import type { Node, RED } from './types';

/** Connection state as the broker node sees it, pushed to every user. */
export type BrokerStateKind = 'unknown' | 'up' | 'down' | 'auth' | 'bad-config';

export interface BrokerState {
  kind: BrokerStateKind;
  /** Status text (< 20 chars) that names the cause of a red state: "broker down: refused", "auth failed". */
  text: string;
  /** The cause alone, for a status that adds its own figures ("refused, 1.2k queued"); defaults to `text`. */
  short?: string;
  /** The underlying error message, for logs. */
  detail?: string;
  /** What to change, for logs (TLS and SASL failures). */
  hint?: string;
}

/** A node that uses a broker config node. */
export interface BrokerUser {
  readonly id: string;
  /** Called on every change of the broker's connection state (and once on register). */
  brokerState(state: BrokerState): void;
}

export interface KafkaBrokerConfig extends Node {
  /** Problems of the broker settings; when non-empty users must not start. */
  readonly problems: string[];
  /** The kafkajs client (a factory of consumers, producers and admins). */
  readonly kafka: Kafka | null;
  readonly brokers: string[];
  readonly state: BrokerState;
  register(user: BrokerUser): void;
  deregister(user: BrokerUser): void;
  /** A user saw its client connect (true) or fail with `err`: updates and pushes the state at once. */
  report(ok: true): void;
  report(ok: false, err: unknown): void;
  /** The broker state that a client error stands for with these settings (its status text names the cause), or null. */
  stateOf(err: unknown): BrokerState | null;
  /** The shared admin client (lag figures), connected; rejects when the broker is not reachable. */
  admin(): Promise<Admin>;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Node-RED gives up on a close handler after 15 s: a node's whole close (its steps one after another)
 * stays within this budget, each step taking at most what is left of it.
 */
export const CLOSE_BUDGET_MS = 12_000;

/** The time left of a budget that started at construction. */
export class Deadline {
  private readonly end: number;

  constructor(ms: number = CLOSE_BUDGET_MS) {
    this.end = Date.now() + ms;
  }

  /** Milliseconds left, at most `cap`. */
  left(cap = Infinity): number {
    return Math.max(0, Math.min(cap, this.end - Date.now()));
  }
}

/** Resolves with `p`'s value, or with `onTimeout` after `ms`; never rejects because of the timeout. */
export function settleWithin<T>(p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Rejects with a timeout error when `p` takes longer than `ms`. */
export function rejectAfter<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { name: 'KafkaJSRequestTimeoutError' })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Shutdowns in progress, by node id. A redeploy starts the new instance of a node as soon as the old
 * one's close finished or Node-RED gave up on it (15 s): the new instance waits for this promise
 * before it creates its own Kafka client, so one node never has two consumers in the group.
 */
const shutdowns = new Map<string, Promise<void>>();

export function previousShutdown(nodeId: string): Promise<void> {
  return shutdowns.get(nodeId) ?? Promise.resolve();
}

export function trackShutdown(nodeId: string, p: Promise<void>): Promise<void> {
  const settled = p.catch(() => undefined);
  shutdowns.set(nodeId, settled);
  void settled.then(() => {
    if (shutdowns.get(nodeId) === settled) shutdowns.delete(nodeId);
  });
  return settled;
}

/**
 * A node's own Kafka client (kafka in's consumer, kafka out's producer) as a user of the broker config
 * node: one client per node id across redeploys, so it connects only once the node's previous instance
 * has shut down, and its shutdown runs once however often it is asked (and a successor waits for it).
 */
export abstract class ClientRunner implements BrokerUser {
  readonly id: string;
  /** The broker's connection state as last pushed (see {@link BrokerUser.brokerState}). */
  protected brokerSt: BrokerState = { kind: 'unknown', text: '' };
  /** The connect in progress (the first, or a restart's): a shutdown lets it settle before it disconnects. */
  protected starting: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | null = null;

  constructor(id: string) {
    this.id = id;
  }

  brokerState(state: BrokerState): void {
    this.brokerSt = state;
    this.show();
  }

  /** Release everything and leave the broker, once however often it is asked, within `budget` (Node-RED's 15 s close). */
  stop(budget = new Deadline()): Promise<void> {
    return (this.stopped ??= trackShutdown(this.id, this.shutdown(budget)));
  }

  /** Connect once the node's previous instance (before a redeploy) has shut down. */
  protected connectAfterPredecessor(): void {
    this.starting = previousShutdown(this.id).then(() => this.connect());
  }

  protected abstract connect(): Promise<void>;
  protected abstract shutdown(budget: Deadline): Promise<void>;
  /** Show the node's status (the broker's state in it). */
  protected abstract show(): void;
}

/** Disconnect a kafkajs client, waiting at most `ms`; never rejects (a client that fails to disconnect is dropped all the same). */
export function disconnectWithin(client: { disconnect(): Promise<void> }, ms: number): Promise<void> {
  return settleWithin(client.disconnect().catch(() => undefined), ms, undefined);
}

/**
 * The close handler of kafka in and kafka out: stop the runner (it bounds its own shutdown well within
 * Node-RED's 15 s), drop the node's metrics, then call `done` whatever happened.
 */
export function closeWith(node: { on(event: 'close', fn: (removed: boolean, done: () => void) => void): unknown }, runner: { stop(): Promise<void> }, metrics: { remove(): void }): void {
  node.on('close', (_removed: boolean, done: () => void) => {
    runner.stop().then(
      () => {
        metrics.remove();
        done();
      },
      () => done(),
    );
  });
}

/** Process-wide id source for after-sink units (see OffsetTracker's `nextId`). */
let unitSeq = 0;
export function nextUnitId(): number {
  return ++unitSeq;
}

/**
 * The kafka broker config node `brokerId` names, for a kafka in or kafka out node that may start; null
 * when it may not: its own `problems` (with a missing broker among them) are reported as bad config, or
 * the broker's own bad-config state is shown in its status (the broker's catalogue text).
 */
export function usableBroker(RED: RED, node: Node, brokerId: unknown, problems: string[]): KafkaBrokerConfig | null {
  const broker = RED.nodes.getNode(String(brokerId ?? '')) as KafkaBrokerConfig | null;
  if (!broker || typeof broker.register !== 'function') problems.push(shared('smoke-kafka-broker.common.config.no-broker'));
  if (problems.length > 0) {
    reportBadConfig(node, problems);
    return null;
  }
  if (broker!.problems.length > 0) {
    setStatus(node, 'failed', broker!.state.text);
    return null;
  }
  return broker;
}
