// The registry with a real store and executor (in memory): keys are made
// ready by real commands (HSET, MULTI/EXEC, SWAPDB...). The waiters wait
// for "hash" keys and are served by popping one field, so the mechanism is
// tested apart from the list and sorted-set types (their commands are
// tested end to end in tests/blocking_test.ts).

import assert from "node:assert/strict";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { RespReplyWriter } from "../protocol/resp_writer.ts";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { type CommandContext, newSession, type Session } from "../executor/command_spec.ts";
import { Executor } from "../executor/executor.ts";
import { applyHashDels, applyHashSets, HashValue } from "../types/hash/hash.ts";
import { WalOp } from "../wal/record.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import type { BlockOutcome, BlockRequest, ServeWaiter } from "./blocked_clients.ts";

function setup() {
  const store = new Store([new Engine(4), new Engine(4)], undefined);
  const executor = new Executor(store, { readOnly: false });
  const blocked = executor.blocking;
  const admin = newSession();
  const out = new OutBuffer(64);
  const w = new RespReplyWriter(out, admin);
  /** Runs a command as `admin` (or `session`); its RESP2 reply. */
  const run = (args: string[], session: Session = admin): string => {
    out.reset();
    const pending = executor.execute(args, w, session);
    assert.equal(pending, undefined, `${args[0]} replies at once`);
    return bytesToBinary(out.view());
  };
  /** The context a command of `session` would get. */
  const contextOf = (session: Session): CommandContext =>
    ({ store, session, db: store.database(session.db) }) as unknown as CommandContext;
  return { store, executor, blocked, run, contextOf };
}

/** Serves a "hash" waiter by removing the hash's first field; replies with it. */
const takeField: ServeWaiter = (ctx, key) => {
  const hash = ctx.db.collection(key, HashValue)!;
  const field = hash.fieldAt(0) ?? hash.entries()[0][0];
  ctx.db.changeCollection(key, WalOp.HashDel, [field], [0], applyHashDels);
  return (w) => w.bulk(field);
};

function request(keys: string[], timeoutMs = 0, serve = takeField, type = "hash"): BlockRequest {
  return { keys, type, timeoutMs, serve };
}

/** What a served outcome replies, as RESP2. */
function replyOf(outcome: BlockOutcome): string {
  assert.equal(outcome.kind, "served");
  const out = new OutBuffer(16);
  const w = new RespReplyWriter(out, { protocol: 2 });
  if (outcome.kind === "served") outcome.reply(w);
  return bytesToBinary(out.view());
}

Deno.test("blocked clients: served first blocked first, while the key lasts", async () => {
  const { blocked, run, contextOf, store } = setup();
  const sessions = [newSession(), newSession(), newSession()];
  const waits = sessions.map((s) => blocked.block(contextOf(s), request(["k"])));
  assert.equal(blocked.count, 3);
  assert.equal(blocked.isBlocked(sessions[1].id), true);
  assert.equal(run(["HSET", "k", "a", "1", "b", "2"]), ":2\r\n");
  // Two fields serve the first two; the key is gone and the third waits on.
  assert.equal(replyOf(await waits[0]), "$1\r\na\r\n");
  assert.equal(replyOf(await waits[1]), "$1\r\nb\r\n");
  assert.equal(store.database(0).exists("k"), false);
  assert.equal(blocked.count, 1);
  assert.equal(blocked.isBlocked(sessions[2].id), true);
  run(["HSET", "k", "c", "3"]);
  assert.equal(replyOf(await waits[2]), "$1\r\nc\r\n");
  assert.equal(blocked.count, 0);
  assert.equal(blocked.readyCount, 0);
});

Deno.test("blocked clients: a client on several keys is served by the first made ready", async () => {
  const { blocked, run, contextOf } = setup();
  const session = newSession();
  const wait = blocked.block(contextOf(session), request(["a", "b", "a"]));
  run(["MULTI"]);
  run(["HSET", "b", "x", "1"]);
  run(["HSET", "a", "y", "1"]);
  assert.equal(blocked.readyCount, 0, "nothing is ready until EXEC has run");
  run(["EXEC"]);
  assert.equal(replyOf(await wait), "$1\r\nx\r\n");
  assert.equal(run(["EXISTS", "a", "b"]), ":1\r\n");
});

Deno.test("blocked clients: a transaction's pushes are served once it is whole", async () => {
  const { blocked, run, contextOf } = setup();
  const wait = blocked.block(contextOf(newSession()), request(["k"]));
  run(["MULTI"]);
  run(["HSET", "k", "first", "1"]);
  run(["DEL", "k"]);
  run(["HSET", "k", "last", "1"]);
  run(["EXEC"]);
  assert.equal(replyOf(await wait), "$4\r\nlast\r\n");
  // Created and deleted inside one transaction: nothing to serve.
  const next = blocked.block(contextOf(newSession()), request(["k"]));
  run(["MULTI"]);
  run(["HSET", "k", "f", "1"]);
  run(["DEL", "k"]);
  run(["EXEC"]);
  assert.equal(blocked.count, 1);
  run(["HSET", "k", "g", "1"]);
  assert.equal(replyOf(await next), "$1\r\ng\r\n");
});

Deno.test("blocked clients: a key of another type leaves them blocked (Redis 7.0)", async () => {
  const { blocked, run, contextOf } = setup();
  const session = newSession();
  const wait = blocked.block(contextOf(session), request(["k"], 0, takeField, "list"));
  run(["HSET", "k", "f", "1"]);
  run(["SET", "s", "v"]);
  assert.equal(blocked.count, 1);
  assert.equal(run(["HLEN", "k"]), ":1\r\n", "nothing was taken");
  assert.equal(blocked.unblock(session.id, false), true);
  assert.equal((await wait).kind, "timeout");
});

Deno.test("blocked clients: a serve that creates a waited key serves its waiter too", async () => {
  const { blocked, run, contextOf } = setup();
  // The first waiter's serve also creates "next" (as a served BLMOVE pushes).
  const takeAndCreate: ServeWaiter = (ctx, key) => {
    const reply = takeField(ctx, key);
    ctx.db.changeCollection("next", WalOp.HashSet, ["movedv"], [5], applyHashSets);
    return reply;
  };
  const first = blocked.block(contextOf(newSession()), request(["src"], 0, takeAndCreate));
  const second = blocked.block(contextOf(newSession()), request(["next"]));
  run(["HSET", "src", "f", "1"]);
  assert.equal(blocked.count, 0, "both served by the one command");
  assert.equal(replyOf(await first), "$1\r\nf\r\n");
  assert.equal(replyOf(await second), "$5\r\nmoved\r\n");
  assert.equal(run(["EXISTS", "src", "next"]), ":0\r\n");
});

Deno.test("blocked clients: timeouts, CLIENT UNBLOCK's two modes, a dropped client", async () => {
  const { blocked, contextOf } = setup();
  const started = Date.now();
  const timed = blocked.block(contextOf(newSession()), request(["k"], 30));
  assert.equal(blocked.withTimeout, 1);
  assert.equal((await timed).kind, "timeout");
  assert.ok(Date.now() - started >= 29, "not before its time");
  assert.equal(blocked.withTimeout, 0);
  assert.equal(blocked.count, 0);

  const a = newSession();
  const b = newSession();
  const c = newSession();
  const waitA = blocked.block(contextOf(a), request(["k"], 60_000));
  const waitB = blocked.block(contextOf(b), request(["k"]));
  const waitC = blocked.block(contextOf(c), request(["k", "j"]));
  assert.equal(blocked.unblock(a.id, false), true);
  assert.equal((await waitA).kind, "timeout");
  assert.equal(blocked.withTimeout, 0, "its timer is gone with it");
  assert.equal(blocked.unblock(b.id, true), true);
  const outcome = await waitB;
  assert.equal(outcome.kind, "error");
  const error = outcome.kind === "error" ? outcome.error : undefined;
  assert.ok(error instanceof CommandError);
  assert.equal(`${error.code} ${error.message}`, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
  assert.equal(blocked.unblock(b.id, true), false, "no longer blocked");
  blocked.drop(c.id);
  assert.equal((await waitC).kind, "dropped");
  assert.equal(blocked.count, 0);
});

Deno.test("blocked clients: turning replica unblocks them with Redis's error, then closes", async () => {
  const { executor, blocked, contextOf } = setup();
  const session = newSession();
  const wait = blocked.block(contextOf(session), request(["k"], 1000));
  executor.readOnly = true;
  const outcome = await wait;
  assert.equal(outcome.kind, "error");
  const error = outcome.kind === "error" ? outcome.error as CommandError : undefined;
  assert.equal(
    `${error?.code} ${error?.message}`,
    "UNBLOCKED force unblock from blocking operation, instance state changed " +
      "(master -> replica?)",
  );
  assert.equal(session.closeAfterReply, true);
  assert.equal(blocked.count, 0);
});

Deno.test("blocked clients: SWAPDB readies the waited keys the other database holds", async () => {
  const { blocked, run, contextOf } = setup();
  const session = newSession();
  session.db = 1;
  const wait = blocked.block(contextOf(session), request(["k"]));
  run(["HSET", "k", "f", "1"]); // database 0
  assert.equal(blocked.count, 1);
  run(["SWAPDB", "0", "1"]);
  assert.equal(replyOf(await wait), "$1\r\nf\r\n");
  // Database 1 (formerly 0) lost its field; database 0 is empty.
  assert.equal(run(["DBSIZE"]), ":0\r\n");
});

Deno.test("blocked clients: with nobody blocked a write pays no serve and no key tracking", async () => {
  const { blocked, store, run, contextOf } = setup();
  const own = store.keyChanges; // WATCH's
  run(["HSET", "k", "f", "1"]);
  assert.equal(blocked.size, 0);
  assert.equal(store.keyChanges?.size, 0, "the store skips its key-change calls");
  assert.equal(blocked.readyCount, 0);
  // Joined to the store's listener only while someone is blocked.
  const session = newSession();
  const wait = blocked.block(contextOf(session), request(["j"]));
  assert.notEqual(store.keyChanges, own);
  assert.equal(store.keyChanges?.size, 1);
  blocked.unblock(session.id, false);
  await wait;
  assert.equal(store.keyChanges, own);
});
