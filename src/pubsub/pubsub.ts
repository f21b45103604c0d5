/**
 * The server's pub/sub: who listens to which channel, pattern and shard
 * channel, and the delivery of published messages to them — Redis 7.0's
 * semantics: a message goes to the channel's subscribers in the order they
 * subscribed, then to each pattern that matches it (Redis's glob), one
 * `pmessage` per pattern; shard channels (SSUBSCRIBE/SPUBLISH) are a space
 * of their own, which patterns do not see.
 *
 * The hub holds no bytes: a {@link Subscriber} (a client connection)
 * renders each message into its own output, in its own protocol.
 *
 * @example
 * ```ts
 * const pubsub = new PubSub();
 * pubsub.subscribe(client, "news");
 * pubsub.publish("news", "hello"); // 1: delivered to client
 * ```
 * @module
 */

import { globMatch } from "../executor/glob.ts";
import { StringMap } from "../types/string_map.ts";
import { KeyspaceEvents } from "./keyspace_events.ts";
import { DEFAULT_PUBSUB_OUTPUT_LIMIT, type OutputLimit } from "../clients/output_limit.ts";

/** The three kinds of message a subscriber receives. */
export type MessageKind = "message" | "pmessage" | "smessage";

/** One client's subscriptions, in the order they were made. */
export class Subscriptions {
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();

  /** Channels and patterns: what (P)SUBSCRIBE replies count. */
  get count(): number {
    return this.channels.size + this.patterns.size;
  }

  /** Every subscription: while non-zero a RESP2 client is in pub/sub mode. */
  get total(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }
}

/**
 * A receiver of messages: a client connection.
 *
 * @example
 * ```ts
 * const listener: Subscriber = {
 *   subscriptions: new Subscriptions(),
 *   deliver: (kind, channel, message, pattern) => console.log(kind, channel, message, pattern),
 * };
 * ```
 */
export interface Subscriber {
  readonly subscriptions: Subscriptions;
  /**
   * Sends one message: `kind` `channel` `message` (`pmessage`: with the
   * matching `pattern` before the channel).
   */
  deliver(kind: MessageKind, channel: string, message: string, pattern: string | undefined): void;
}

/**
 * Channels, patterns and shard channels, and their subscribers.
 *
 * @example
 * ```ts
 * pubsub.psubscribe(client, "news.*");
 * pubsub.numpat; // 1
 * ```
 */
export class PubSub {
  /**
   * Subscribers by channel: {@link StringMap}s, as PUBLISH looks up the
   * channel it was sent (a Map lookup internalizes a string in V8 15: see
   * README "The keyspace"; keyspace notifications publish to a channel
   * made for each write).
   */
  readonly #channels = new StringMap<Set<Subscriber>>();
  readonly #patterns = new Map<string, Set<Subscriber>>();
  readonly #shardChannels = new StringMap<Set<Subscriber>>();
  /** `notify-keyspace-events` and the notifications it asks for. */
  readonly events: KeyspaceEvents = new KeyspaceEvents(this);
  /**
   * The pubsub class's output limit (`client-output-buffer-limit pubsub`):
   * subscribers and MONITOR clients (see src/clients/client_limits.ts).
   */
  outputLimit: OutputLimit = { ...DEFAULT_PUBSUB_OUTPUT_LIMIT };
  /** Messages delivered since start (one per receiver). */
  delivered = 0;

  /**
   * Applies the YAML's `pubsub` section (`config.pubsub`): the events
   * notified and the output limit.
   */
  configure(settings: {
    notifyKeyspaceEvents: string;
    outputHardLimitBytes: number;
    outputSoftLimitBytes: number;
    outputSoftLimitSeconds: number;
  }): void {
    this.events.setText(settings.notifyKeyspaceEvents);
    this.outputLimit = {
      hardBytes: settings.outputHardLimitBytes,
      softBytes: settings.outputSoftLimitBytes,
      softSeconds: settings.outputSoftLimitSeconds,
    };
  }

  /** Adds `channel` to `sub`'s subscriptions; false if it had it. */
  subscribe(sub: Subscriber, channel: string): boolean {
    return add(this.#channels, sub.subscriptions.channels, sub, channel);
  }

  /** Removes `channel` from `sub`'s subscriptions; false if it did not have it. */
  unsubscribe(sub: Subscriber, channel: string): boolean {
    return remove(this.#channels, sub.subscriptions.channels, sub, channel);
  }

  /** Adds `pattern` to `sub`'s pattern subscriptions; false if it had it. */
  psubscribe(sub: Subscriber, pattern: string): boolean {
    return add(this.#patterns, sub.subscriptions.patterns, sub, pattern);
  }

  /** Removes a pattern subscription; false if `sub` did not have it. */
  punsubscribe(sub: Subscriber, pattern: string): boolean {
    return remove(this.#patterns, sub.subscriptions.patterns, sub, pattern);
  }

  /** Adds a shard channel subscription; false if `sub` had it. */
  ssubscribe(sub: Subscriber, channel: string): boolean {
    return add(this.#shardChannels, sub.subscriptions.shardChannels, sub, channel);
  }

  /** Removes a shard channel subscription; false if `sub` did not have it. */
  sunsubscribe(sub: Subscriber, channel: string): boolean {
    return remove(this.#shardChannels, sub.subscriptions.shardChannels, sub, channel);
  }

  /** Drops every subscription of `sub` (a closed connection), telling it nothing. */
  dropAll(sub: Subscriber): void {
    const s = sub.subscriptions;
    for (const channel of [...s.channels]) this.unsubscribe(sub, channel);
    for (const pattern of [...s.patterns]) this.punsubscribe(sub, pattern);
    for (const channel of [...s.shardChannels]) this.sunsubscribe(sub, channel);
  }

  /**
   * Delivers `message` to `channel`'s subscribers, then to every matching
   * pattern's; returns how many deliveries were made (PUBLISH's reply).
   */
  publish(channel: string, message: string): number {
    let receivers = 0;
    const subscribers = this.#channels.get(channel);
    if (subscribers !== undefined) {
      for (const sub of subscribers) {
        sub.deliver("message", channel, message, undefined);
        receivers++;
      }
    }
    if (this.#patterns.size > 0) {
      for (const [pattern, subs] of this.#patterns) {
        if (!globMatch(pattern, channel)) continue;
        for (const sub of subs) {
          sub.deliver("pmessage", channel, message, pattern);
          receivers++;
        }
      }
    }
    this.delivered += receivers;
    return receivers;
  }

  /** SPUBLISH: delivers to the shard channel's subscribers. */
  spublish(channel: string, message: string): number {
    const subscribers = this.#shardChannels.get(channel);
    if (subscribers === undefined) return 0;
    for (const sub of subscribers) sub.deliver("smessage", channel, message, undefined);
    this.delivered += subscribers.size;
    return subscribers.size;
  }

  /** Channels with a subscriber, matching `pattern` if given (PUBSUB CHANNELS). */
  channelNames(pattern?: string): string[] {
    return names(this.#channels, pattern);
  }

  /** Shard channels with a subscriber (PUBSUB SHARDCHANNELS). */
  shardChannelNames(pattern?: string): string[] {
    return names(this.#shardChannels, pattern);
  }

  /** Subscribers of `channel`, patterns not counted (PUBSUB NUMSUB). */
  numsub(channel: string): number {
    return this.#channels.get(channel)?.size ?? 0;
  }

  /** Subscribers of a shard channel (PUBSUB SHARDNUMSUB). */
  shardNumsub(channel: string): number {
    return this.#shardChannels.get(channel)?.size ?? 0;
  }

  /** Distinct patterns subscribed to (PUBSUB NUMPAT, INFO's pubsub_patterns). */
  get numpat(): number {
    return this.#patterns.size;
  }

  /** Channels with a subscriber (INFO's pubsub_channels). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Shard channels with a subscriber (INFO's pubsubshard_channels). */
  get shardChannelCount(): number {
    return this.#shardChannels.size;
  }
}

/** What {@link add} and {@link remove} need of a channel or pattern index. */
interface SubscriberIndex {
  get(name: string): Set<Subscriber> | undefined;
  set(name: string, subs: Set<Subscriber>): unknown;
  delete(name: string): boolean;
}

function add(
  index: SubscriberIndex,
  own: Set<string>,
  sub: Subscriber,
  name: string,
): boolean {
  if (own.has(name)) return false;
  own.add(name);
  let subs = index.get(name);
  if (subs === undefined) index.set(name, subs = new Set());
  subs.add(sub);
  return true;
}

function remove(
  index: SubscriberIndex,
  own: Set<string>,
  sub: Subscriber,
  name: string,
): boolean {
  if (!own.delete(name)) return false;
  const subs = index.get(name);
  if (subs !== undefined) {
    subs.delete(sub);
    if (subs.size === 0) index.delete(name);
  }
  return true;
}

function names(index: StringMap<Set<Subscriber>>, pattern: string | undefined): string[] {
  const all: string[] = [];
  for (let at = 0; at < index.positions; at++) {
    const name = index.keyAt(at);
    if (name !== undefined && (pattern === undefined || globMatch(pattern, name))) all.push(name);
  }
  return all;
}
