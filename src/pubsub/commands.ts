/**
 * The pub/sub commands, with Redis 7.0's replies: SUBSCRIBE, UNSUBSCRIBE,
 * PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE (a confirmation per
 * channel — `subscribe <channel> <count>` — sent as a push in RESP3, as an
 * array in RESP2), PUBLISH and SPUBLISH (how many received it), and PUBSUB
 * CHANNELS | NUMSUB | NUMPAT | SHARDCHANNELS | SHARDNUMSUB (HELP is made
 * from the table).
 *
 * An UNSUBSCRIBE without channels leaves every channel in the order they
 * were subscribed (Redis: in its hash table's order, which varies).
 *
 * @example
 * ```ts
 * PUBSUB_COMMANDS.map((c) => c.name); // ["SUBSCRIBE", ...]
 * ```
 * @module
 */

import type {
  CommandContext,
  CommandDeclaration,
  CommandHandler,
} from "../executor/command_spec.ts";
import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import type { Client } from "../server/clients.ts";
import type { PubSub } from "./pubsub.ts";

/** The session's connection; in-process sessions (`kvdb cli`) cannot subscribe. */
function clientOf(ctx: CommandContext): Client {
  const client = ctx.session.client;
  if (client === undefined) {
    throw new CommandError(
      "ERR",
      "pub/sub needs a network connection (kvdb client, redis-cli)",
      "pub/sub needs a network connection (kvdb client, redis-cli)",
    );
  }
  return client;
}

/** How one kind of subscription is kept and counted. */
interface Kind {
  add(pubsub: PubSub, client: Client, name: string): boolean;
  remove(pubsub: PubSub, client: Client, name: string): boolean;
  names(client: Client): Set<string>;
  count(client: Client): number;
}

const CHANNELS: Kind = {
  add: (p, c, name) => p.subscribe(c, name),
  remove: (p, c, name) => p.unsubscribe(c, name),
  names: (c) => c.subscriptions.channels,
  count: (c) => c.subscriptions.count,
};

const PATTERNS: Kind = {
  add: (p, c, name) => p.psubscribe(c, name),
  remove: (p, c, name) => p.punsubscribe(c, name),
  names: (c) => c.subscriptions.patterns,
  count: (c) => c.subscriptions.count,
};

const SHARD_CHANNELS: Kind = {
  add: (p, c, name) => p.ssubscribe(c, name),
  remove: (p, c, name) => p.sunsubscribe(c, name),
  names: (c) => c.subscriptions.shardChannels,
  count: (c) => c.subscriptions.shardChannels.size,
};

function subscribe(name: string, kind: Kind, summary: string): CommandHandler {
  const reply = name.toLowerCase();
  return {
    name,
    summary,
    run(ctx, args) {
      const client = clientOf(ctx);
      for (let i = 1; i < args.length; i++) {
        kind.add(ctx.pubsub, client, args[i]);
        client.confirm(reply, args[i], kind.count(client));
      }
      client.subscriptionsChanged();
    },
  };
}

function unsubscribe(name: string, kind: Kind, summary: string): CommandHandler {
  const reply = name.toLowerCase();
  return {
    name,
    summary,
    run(ctx, args) {
      const client = clientOf(ctx);
      if (args.length === 1) {
        const all = [...kind.names(client)];
        if (all.length === 0) client.confirm(reply, undefined, kind.count(client));
        for (const channel of all) {
          kind.remove(ctx.pubsub, client, channel);
          client.confirm(reply, channel, kind.count(client));
        }
      } else {
        for (let i = 1; i < args.length; i++) {
          kind.remove(ctx.pubsub, client, args[i]);
          client.confirm(reply, args[i], kind.count(client));
        }
      }
      client.subscriptionsChanged();
    },
  };
}

/** Redis's reply to PUBSUB CHANNELS a b: the subcommand's own syntax error. */
function subcommandSyntax(sub: string): CommandError {
  return new CommandError(
    "ERR",
    `unknown subcommand or wrong number of arguments for '${sub}'. Try PUBSUB HELP.`,
    `wrong number of arguments for PUBSUB ${sub}`,
  );
}

function replyNames(args: string[], w: ReplyWriter, names: (pattern?: string) => string[]): void {
  if (args.length > 3) throw subcommandSyntax(args[1]);
  const found = names(args[2]);
  w.array(found.length);
  for (const name of found) w.bulk(name);
}

function replyCounts(args: string[], w: ReplyWriter, count: (channel: string) => number): void {
  w.array((args.length - 2) * 2);
  for (let i = 2; i < args.length; i++) {
    w.bulk(args[i]);
    w.integer(count(args[i]));
  }
}

/** The pub/sub commands. */
export const PUBSUB_COMMANDS: CommandDeclaration[] = [
  subscribe("SUBSCRIBE", CHANNELS, "Listens to the channels given; confirms each."),
  unsubscribe(
    "UNSUBSCRIBE",
    CHANNELS,
    "Stops listening to the channels given (all without arguments); confirms each.",
  ),
  subscribe("PSUBSCRIBE", PATTERNS, "Listens to the channels matching the patterns given."),
  unsubscribe(
    "PUNSUBSCRIBE",
    PATTERNS,
    "Stops listening to the patterns given (all without arguments); confirms each.",
  ),
  subscribe("SSUBSCRIBE", SHARD_CHANNELS, "Listens to the shard channels given; confirms each."),
  unsubscribe(
    "SUNSUBSCRIBE",
    SHARD_CHANNELS,
    "Stops listening to the shard channels given (all without arguments); confirms each.",
  ),
  {
    name: "PUBLISH",
    summary: "Sends a message to a channel's subscribers and matching patterns; how many got it.",
    run(ctx, args, w) {
      w.integer(ctx.pubsub.publish(args[1], args[2]));
    },
  },
  {
    name: "SPUBLISH",
    summary: "Sends a message to a shard channel's subscribers; how many got it.",
    run(ctx, args, w) {
      w.integer(ctx.pubsub.spublish(args[1], args[2]));
    },
  },
  {
    name: "PUBSUB",
    summary: "Describes the server's channels and subscriptions.",
    subcommands: [
      {
        name: "CHANNELS",
        summary: "Returns the channels with subscribers, matching the pattern if given.",
        run: (ctx, args, w) => replyNames(args, w, (p) => ctx.pubsub.channelNames(p)),
      },
      {
        name: "NUMSUB",
        summary: "Returns each channel given and its number of subscribers (patterns not counted).",
        run: (ctx, args, w) => replyCounts(args, w, (c) => ctx.pubsub.numsub(c)),
      },
      {
        name: "NUMPAT",
        summary: "Returns the number of patterns subscribed to.",
        run: (ctx, _args, w) => w.integer(ctx.pubsub.numpat),
      },
      {
        name: "SHARDCHANNELS",
        summary: "Returns the shard channels with subscribers, matching the pattern if given.",
        run: (ctx, args, w) => replyNames(args, w, (p) => ctx.pubsub.shardChannelNames(p)),
      },
      {
        name: "SHARDNUMSUB",
        summary: "Returns each shard channel given and its number of subscribers.",
        run: (ctx, args, w) => replyCounts(args, w, (c) => ctx.pubsub.shardNumsub(c)),
      },
    ],
  },
];
