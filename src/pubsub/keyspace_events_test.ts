import assert from "node:assert/strict";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { Executor } from "../executor/executor.ts";
import {
  formatNotifyFlags,
  NOTIFY_EXPIRED,
  NOTIFY_GENERIC,
  NOTIFY_NEW,
  NOTIFY_STRING,
  parseNotifyFlags,
} from "./keyspace_events.ts";
import { type MessageKind, PubSub, type Subscriber, Subscriptions } from "./pubsub.ts";

/** A subscriber that keeps what it receives. */
function recorder(): Subscriber & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    subscriptions: new Subscriptions(),
    deliver(kind: MessageKind, channel: string, message: string, pattern?: string) {
      got.push([kind, pattern, channel, message].filter((x) => x !== undefined).join(" "));
    },
  };
}

Deno.test("notify-keyspace-events letters read and written back as redis-server 7.0.15 does", () => {
  // Pairs seen with CONFIG SET / CONFIG GET on redis-server 7.0.15.
  const seen: [string, string][] = [
    ["KEA", "AKE"],
    ["A", "A"],
    ["gE", "gE"],
    ["K", "K"],
    ["AKEm", "AKEm"],
    ["Kg$lshzxetdn", "AK"],
    ["Kg$lshzxetd", "AK"],
    ["n", "n"],
    ["x", "x"],
    ["", ""],
    ["AA", "A"],
    ["KE$", "$KE"],
  ];
  for (const [given, shown] of seen) {
    assert.equal(formatNotifyFlags(parseNotifyFlags(given)!), shown, given);
  }
  assert.equal(parseNotifyFlags("Q"), undefined);
  assert.equal(parseNotifyFlags("KEQ"), undefined);
});

Deno.test("a bad letter changes nothing; classes without K or E publish nothing", () => {
  const pubsub = new PubSub();
  const sub = recorder();
  pubsub.psubscribe(sub, "*");
  pubsub.events.setText("KE$");
  assert.throws(() => pubsub.events.setText("K?"), /Invalid event class character/);
  assert.equal(pubsub.events.text, "$KE");
  pubsub.events.notify(NOTIFY_STRING, "set", "k", 3);
  assert.deepEqual(sub.got, [
    "pmessage * __keyspace@3__:k set",
    "pmessage * __keyevent@3__:set k",
  ]);
  pubsub.events.notify(NOTIFY_GENERIC, "del", "k", 3);
  assert.equal(sub.got.length, 2, "generic events were not asked for");
  pubsub.events.setText("g$");
  assert.equal(pubsub.events.active, 0, "no channel kind: nothing is published");
  pubsub.events.notify(NOTIFY_STRING, "set", "k", 0);
  assert.equal(sub.got.length, 2);
});

Deno.test("expiry, lazy and in the background, publishes 'expired' in the key's database", () => {
  let now = 1_000_000;
  const store = new Store([new Engine(4), new Engine(4)], undefined, {
    expireKeys: true,
    nowMs: () => now,
  });
  const executor = new Executor(store, { readOnly: false });
  const sub = recorder();
  executor.pubsub.psubscribe(sub, "__key*__:*");
  executor.pubsub.events.setText("KEA");
  store.database(1).set("gone", "v", now + 10);
  store.database(0).set("lazy", "v", now + 10);
  now += 20;
  assert.equal(store.expireSome(), 2);
  assert.deepEqual(sub.got.sort(), [
    "pmessage __key*__:* __keyevent@0__:expired lazy",
    "pmessage __key*__:* __keyevent@1__:expired gone",
    "pmessage __key*__:* __keyspace@0__:lazy expired",
    "pmessage __key*__:* __keyspace@1__:gone expired",
  ]);
  sub.got.length = 0;
  store.database(0).set("touched", "v", now + 10);
  now += 20;
  assert.equal(store.database(0).get("touched"), undefined);
  assert.deepEqual(sub.got, [
    "pmessage __key*__:* __keyspace@0__:touched expired",
    "pmessage __key*__:* __keyevent@0__:expired touched",
  ]);
  executor.pubsub.events.setText("");
  sub.got.length = 0;
  store.database(0).set("quiet", "v", now + 10);
  now += 20;
  store.expireSome();
  assert.deepEqual(sub.got, []);
  assert.ok(!(executor.pubsub.events.active & (NOTIFY_EXPIRED | NOTIFY_NEW)));
});
