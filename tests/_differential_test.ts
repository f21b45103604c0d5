/**
 * Self-tests of the differential harness (tests/_differential.ts): that it
 * passes where two servers agree, and fails — naming the step, the
 * command and both replies — where they do not.
 *
 * The servers here are all redis-server: two with the same config must
 * agree on everything (random sequences included, RESP2 and RESP3), and
 * one whose config changes replies (`maxmemory 1`: every write is refused
 * with -OOM) must be caught.
 */

import assert from "node:assert/strict";
import {
  binaryBytes,
  clientListFields,
  describeValue,
  diff,
  DiffError,
  diffRandom,
  DiffSetupError,
  encodeCommand,
  errorCode,
  frameFromWire,
  generate,
  infoFields,
  parseFrame,
  RedisServer,
  RespFramingError,
  Rng,
  runDiff,
  shapeOnly,
  shrink,
  STANDARD_RULES,
  type StepLike,
  type Template,
  template,
  ttlWithin,
  unordered,
} from "./_differential.ts";

// ---------------------------------------------------------------------------
// The framer.

/** Wire bytes and how the decoded value reads. */
const FRAMES: [wire: string, described: string][] = [
  ["+OK\r\n", "OK"],
  ["-ERR bad thing\r\n", "(error) ERR bad thing"],
  [":-42\r\n", "(integer) -42"],
  ["$5\r\na\r\n\x00\xff\r\n", '"a\\r\\n\\x00\\xff"'],
  ["$0\r\n\r\n", '""'],
  ["$-1\r\n", "(nil $-1)"],
  ["*-1\r\n", "(nil *-1)"],
  ["_\r\n", "(nil _)"],
  [",3.25\r\n", "(double) 3.25"],
  [",-inf\r\n", "(double) -inf"],
  [",nan\r\n", "(double) nan"],
  [",1e+300\r\n", "(double) 1e+300"],
  ["#t\r\n", "(true)"],
  ["#f\r\n", "(false)"],
  [
    "(3492890328409238509324850943850943825024385\r\n",
    "(big number) 3492890328409238509324850943850943825024385",
  ],
  ["!21\r\nSYNTAX invalid syntax\r\n", "(error blob) SYNTAX invalid syntax"],
  ["=15\r\ntxt:Some string\r\n", '(verbatim txt) "Some string"'],
  ["*0\r\n", "[]"],
  ["*3\r\n:1\r\n$1\r\nx\r\n*1\r\n_\r\n", '[(integer) 1, "x", [(nil _)]]'],
  [
    "%2\r\n+a\r\n:1\r\n$1\r\nb\r\n~2\r\n#t\r\n,1.5\r\n",
    '{a => (integer) 1, "b" => ~{(true), (double) 1.5}}',
  ],
  [">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", '>["message", "ch", "hi"]'],
  [
    "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n",
    '|{key-popularity => {"a" => (double) 0.19}} [(integer) 2]',
  ],
  ["*1\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", '[|{ttl => (integer) 3} "v"]'],
  ["$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n", '"Hello"'],
  ["*?\r\n:1\r\n*?\r\n.\r\n.\r\n", "[(integer) 1, []]"],
  ["%?\r\n+a\r\n:1\r\n.\r\n", "{a => (integer) 1}"],
  ["~?\r\n+x\r\n.\r\n", "~{x}"],
];

Deno.test("framer: every RESP2 and RESP3 type, nested, with attributes and streams", () => {
  for (const [wire, described] of FRAMES) {
    const bytes = binaryBytes(wire);
    // Incomplete until the last byte: a framer that answered early would split replies.
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.equal(
        parseFrame(bytes.subarray(0, cut), 0),
        undefined,
        `${JSON.stringify(wire)} cut at ${cut}`,
      );
    }
    const parsed = parseFrame(bytes, 0);
    assert.ok(parsed, JSON.stringify(wire));
    assert.equal(parsed.end, bytes.length, JSON.stringify(wire));
    assert.equal(describeValue(parsed.value), described, JSON.stringify(wire));
    assert.equal(parsed.push, wire.startsWith(">"));
  }
  // Back to back: each frame ends where the next begins.
  const all = binaryBytes(FRAMES.map(([w]) => w).join(""));
  let at = 0;
  for (const [wire] of FRAMES) {
    const parsed = parseFrame(all, at)!;
    assert.equal(parsed.end - at, wire.length);
    at = parsed.end;
  }
  assert.equal(at, all.length);
});

Deno.test("framer: bytes that are not RESP are refused, not waited for", () => {
  const bad = [
    "?x\r\n",
    "+OK\n",
    ":12a\r\n",
    "#x\r\n",
    "_x\r\n",
    ",1.2.3\r\n",
    "$3\r\nabcd\r\n",
    "$-2\r\n",
    "%-1\r\n",
    "=3\r\nabc\r\n",
    "|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n:3\r\n",
    "*1\r\n".repeat(100) + ":1\r\n",
  ];
  for (const wire of bad) {
    assert.throws(() => parseFrame(binaryBytes(wire), 0), RespFramingError, JSON.stringify(wire));
  }
});

Deno.test("encodeCommand: a RESP array of binary-safe bulk strings", () => {
  const bytes = encodeCommand(["SET", "k\r\n", new Uint8Array([0, 255]), ""]);
  assert.deepEqual(
    bytes,
    binaryBytes("*4\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$2\r\n\x00\xff\r\n$0\r\n\r\n"),
  );
  assert.throws(() => encodeCommand(["é€"]), RangeError);
});

// ---------------------------------------------------------------------------
// Generator and shrinker.

Deno.test("Rng is mulberry32: the published first values, and in range", () => {
  const r = new Rng(1);
  assert.equal(r.next(), 0.6270739405881613);
  assert.equal(r.next(), 0.002735721180215478);
  const s = new Rng(99);
  for (let i = 0; i < 10_000; i++) {
    const n = s.int(-3, 3);
    assert.ok(Number.isInteger(n) && n >= -3 && n <= 3);
  }
});

Deno.test("generate: the same seed gives the same sequence, weights are respected", () => {
  const templates: Template<string>[] = [
    template(9, (r: Rng) => `a${r.int(0, 9)}`),
    template(1, (r: Rng) => `b${r.int(0, 9)}`),
  ];
  const one = generate(templates, 5, 2000);
  assert.deepEqual(generate(templates, 5, 2000), one);
  assert.notDeepEqual(generate(templates, 6, 2000), one);
  const bs = one.filter((x) => x.startsWith("b")).length;
  assert.ok(bs > 120 && bs < 280, `weight 1 of 10 chosen ${bs} times of 2000`);
  assert.throws(() => template(0, () => 1), RangeError);
  assert.throws(() => generate(templates, 1, -1), RangeError);
});

Deno.test("shrink: finds the two items that together fail, within its budget", async () => {
  const items = Array.from({ length: 40 }, (_, i) => i);
  const fails = (c: number[]) => Promise.resolve(c.includes(7) && c.includes(31));
  const shrunk = await shrink(items, fails, { maxRuns: 1000, deadlineMs: Date.now() + 10_000 });
  assert.deepEqual(shrunk.items, [7, 31]);
  assert.equal(shrunk.exhausted, false);
  const cut = await shrink(items, fails, { maxRuns: 3, deadlineMs: Date.now() + 10_000 });
  assert.equal(cut.runs, 3);
  assert.equal(cut.exhausted, true);
  assert.ok(cut.items.includes(7) && cut.items.includes(31));
});

// ---------------------------------------------------------------------------
// Comparators.

Deno.test("comparators: each accepts what it is for and nothing else", () => {
  const f = frameFromWire;
  const ttl = ttlWithin(1);
  assert.ok(ttl.equal(f(":99\r\n"), f(":100\r\n")));
  assert.ok(!ttl.equal(f(":98\r\n"), f(":100\r\n")));
  assert.ok(!ttl.equal(f(":-1\r\n"), f(":-2\r\n")), "no key and no expiry are different answers");
  assert.ok(!ttl.equal(f(":0\r\n"), f(":-1\r\n")));
  assert.ok(!ttl.equal(f("$2\r\n99\r\n"), f(":99\r\n")));

  assert.ok(unordered.equal(f("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), f("*2\r\n$1\r\nb\r\n$1\r\na\r\n")));
  assert.ok(!unordered.equal(f("*2\r\n$1\r\na\r\n$1\r\na\r\n"), f("*2\r\n$1\r\na\r\n$1\r\nb\r\n")));
  assert.ok(!unordered.equal(f("*1\r\n$1\r\na\r\n"), f("~1\r\n$1\r\na\r\n")), "array vs set");
  assert.ok(!unordered.equal(f("*1\r\n$1\r\n1\r\n"), f("*1\r\n:1\r\n")), "bulk vs integer");
  assert.ok(
    unordered.equal(f("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"), f("%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n")),
  );
  assert.ok(
    !unordered.equal(f("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"), f("%2\r\n+a\r\n:2\r\n+b\r\n:1\r\n")),
  );
  assert.ok(!unordered.equal(f("-ERR a\r\n"), f("-ERR b\r\n")));

  assert.ok(
    shapeOnly.equal(
      f("*2\r\n$10\r\n1700000000\r\n$1\r\n5\r\n"),
      f("*2\r\n$1\r\n9\r\n$3\r\n123\r\n"),
    ),
  );
  assert.ok(!shapeOnly.equal(f("*2\r\n$1\r\n1\r\n$1\r\n5\r\n"), f("*1\r\n$1\r\n9\r\n")));
  assert.ok(!shapeOnly.equal(f("$-1\r\n"), f("_\r\n")));

  assert.ok(errorCode.equal(f("-ERR one wording\r\n"), f("-ERR another\r\n")));
  assert.ok(!errorCode.equal(f("-ERR x\r\n"), f("-WRONGTYPE x\r\n")));
  assert.ok(!errorCode.equal(f("-ERR x\r\n"), f("+OK\r\n")));

  const info = (body: string) => f(`$${body.length}\r\n${body}\r\n`);
  const fields = infoFields(["role", "db0"]);
  assert.ok(fields.equal(info("# R\r\nrole:master\r\nx:1\r\n"), info("role:master\r\nx:2\r\n")));
  assert.ok(!fields.equal(info("role:master\r\n"), info("role:slave\r\n")));
  assert.ok(!fields.equal(info("role:master\r\ndb0:keys=1\r\n"), info("role:master\r\n")));

  const clients = clientListFields(["name", "db", "cmd"]);
  const list = (body: string) => info(body);
  assert.ok(clients.equal(
    list("id=3 addr=127.0.0.1:5 name=a db=0 cmd=client|list\nid=4 addr=x name= db=1 cmd=get\n"),
    list("id=9 addr=127.0.0.1:7 name=a db=0 cmd=client|list\nid=2 addr=y name= db=1 cmd=get\n"),
  ));
  assert.ok(!clients.equal(list("id=3 name=a db=0\n"), list("id=3 name=b db=0\n")));
  assert.ok(!clients.equal(list("id=3 name=a db=0\n"), list("id=3 name=a db=0\nid=4\n")));
});

// ---------------------------------------------------------------------------
// Against real servers.

const KEYS = ["k1", "k2", "k3", "", "\x00\xff"];
const VALUES = ["", "0", "1", "-1", "10", "abc", "9223372036854775807", "\r\n\x00"];
const FIELDS = ["f1", "f2"];

/** Commands of several types over few keys, so types clash: fine between two redis-servers. */
const MIXED: Template<StepLike>[] = [
  template(4, (r: Rng) => ["SET", r.pick(KEYS), r.pick(VALUES)]),
  template(3, (r: Rng) => ["GET", r.pick(KEYS)]),
  template(2, (r: Rng) => ["INCRBY", r.pick(KEYS), r.pick(VALUES)]),
  template(2, (r: Rng) => ["APPEND", r.pick(KEYS), r.pick(VALUES)]),
  template(1, (r: Rng) => ["DEL", ...r.some(KEYS, r.int(1, 3))]),
  template(1, (r: Rng) => ["EXPIRE", r.pick(KEYS), String(r.int(100, 1000))]),
  template(1, (r: Rng) => ({ args: ["TTL", r.pick(KEYS)] })),
  template(2, (r: Rng) => ["LPUSH", r.pick(KEYS), r.pick(VALUES)]),
  template(1, (r: Rng) => ["LRANGE", r.pick(KEYS), "0", "-1"]),
  template(2, (r: Rng) => ["HSET", r.pick(KEYS), r.pick(FIELDS), r.pick(VALUES)]),
  template(1, (r: Rng) => ({ args: ["HGETALL", r.pick(KEYS)], compare: unordered })),
  template(2, (r: Rng) => ["SADD", r.pick(KEYS), r.pick(VALUES)]),
  template(1, (r: Rng) => ({ args: ["SMEMBERS", r.pick(KEYS)], compare: unordered })),
  template(1, (r: Rng) => ["TYPE", r.pick(KEYS)]),
  template(1, () => ["DBSIZE"]),
  template(1, () => ["KEYS", "*"]),
];

Deno.test("against redis-server", async (t) => {
  const [a, b, oom] = await Promise.all([
    RedisServer.start(),
    RedisServer.start({ name: "redis-b" }),
    RedisServer.start({
      name: "redis-oom",
      args: ["--maxmemory", "1", "--maxmemory-policy", "noeviction"],
    }),
  ]);
  try {
    await t.step("two redis-servers agree on a random sequence, RESP2 and RESP3", async () => {
      for (const resp3 of [false, true]) {
        const result = await runDiff(a, b, generate(MIXED, 2024, 400), {
          resp3,
          rules: STANDARD_RULES,
        });
        assert.equal(result.mismatches.length, 0, `RESP${resp3 ? 3 : 2}`);
        assert.equal(result.outcomes.length, 400);
        // The sequence did exercise clashes and both reply kinds.
        const raws = result.outcomes.map(([x]) => new TextDecoder().decode(x.frames[0].raw));
        assert.ok(raws.some((r) => r.startsWith("-WRONGTYPE")), "no WRONGTYPE in 400 steps");
        assert.ok(raws.some((r) => r.startsWith(resp3 ? "%" : "*")));
      }
    });

    await t.step("an unordered reply differs exactly and agrees as a multiset", async () => {
      const keys = Array.from({ length: 40 }, (_, i) => `key:${i}`);
      const steps = [["MSET", ...keys.flatMap((k) => [k, "v"])], ["KEYS", "*"]];
      // Each redis-server seeds its hash function at random, so the orders differ.
      const exactRun = await runDiff(a, b, steps);
      assert.deepEqual(exactRun.mismatches.map((m) => m.index), [1]);
      assert.equal(
        (await runDiff(a, b, steps, { rules: { KEYS: unordered } })).mismatches.length,
        0,
      );
    });

    await t.step(
      "several connections, pub/sub pushes, protocol errors and closes agree",
      async () => {
        for (const resp3 of [false, true]) {
          const steps: StepLike[] = [
            // RESP3 answers SUBSCRIBE with pushes only; RESP2 with arrays (replies).
            resp3
              ? { conn: 1, args: ["SUBSCRIBE", "c1", "c2"], replies: 0, pushes: 2 }
              : { conn: 1, args: ["SUBSCRIBE", "c1", "c2"], replies: 2 },
            ["PUBLISH", "c1", "hello"],
            resp3 ? { conn: 1, pushes: 1 } : { conn: 1, replies: 1 },
            { conn: 2, args: ["MULTI"] },
            { conn: 2, args: ["INCR", "n"] },
            { conn: 2, args: ["EXEC"] },
            { conn: 3, raw: "*1\r\n$x\r\n", awaitCloseMs: 2_000 },
            { conn: 4, raw: "PING\r\n" },
            { conn: 4, args: ["QUIT"], awaitCloseMs: 2_000 },
            { conn: 4, args: ["ECHO", "reopened"] },
            { args: ["PING"], replies: 2, timeoutMs: 300 }, // one reply only: both time out alike
          ];
          const result = await runDiff(a, b, steps, { resp3 });
          assert.deepEqual(result.mismatches, [], `RESP${resp3 ? 3 : 2}`);
          assert.equal(result.outcomes[6][0].end, "closed");
          assert.equal(result.outcomes[8][0].end, "closed");
          assert.equal(result.outcomes[10][0].end, "timeout");
          assert.equal(result.outcomes[2][0].frames[0].push, resp3);
        }
      },
    );

    await t.step("a server whose writes are refused: every differing step is named", async () => {
      const steps = [["SET", "k", "v"], ["GET", "k"], ["PING"], ["DEL", "k"], ["INCR", "n"]];
      // runDiff reports differences; diff throws them.
      assert.equal((await runDiff(b, oom, steps)).mismatches.length, 4);
      const e = await diff(b, oom, steps).catch((x) => x);
      assert.ok(e instanceof DiffError, String(e));
      assert.ok(e instanceof assert.AssertionError);
      assert.deepEqual(e.result.mismatches.map((m) => m.index), [0, 1, 3, 4]);
      const msg = e.message;
      assert.match(msg, /redis-b differs from redis-oom \(RESP2\) in 4 of 5 steps/);
      assert.match(
        msg,
        /#0 SET k v\n {2}redis-b: {3}"\+OK\\r\\n"\n {2}redis-oom: "-OOM command not allowed/,
      );
      assert.match(
        msg,
        /#1 GET k\n {2}redis-b: {3}"\$1\\r\\nv\\r\\n"\n {2}redis-oom: "\$-1\\r\\n"/,
      );
      assert.match(msg, /#3 DEL k\n/);
      assert.match(msg, /#4 INCR n\n/);
      assert.doesNotMatch(msg, /#2 PING/);
      const short = await diff(b, oom, steps, { maxReported: 1, label: "case X" }).catch((x) => x);
      assert.match(short.message, /^case X: /);
      assert.match(short.message, /\.\.\. and 3 more differing steps$/);
    });

    await t.step("frames nobody read are compared at the end", async () => {
      const result = await runDiff(b, oom, [{ args: ["SET", "k", "v"], replies: 0 }]);
      assert.equal(result.mismatches.length, 1);
      assert.equal(result.mismatches[0].index, 1);
      assert.match(result.mismatches[0].comparator, /left unread/);
    });

    await t.step(
      "a random sequence that differs is shrunk to one write and reports its seed",
      async () => {
        const e = await diffRandom(b, oom, {
          templates: MIXED,
          seed: 7,
          length: 200,
          rules: STANDARD_RULES,
          label: "mixed",
        }).catch((x) => x);
        assert.ok(e instanceof DiffError, String(e));
        assert.equal(e.result.steps.length, 1, e.message);
        assert.match(String(e.result.steps[0].args?.[0]), /^(SET|INCRBY|APPEND|LPUSH|HSET|SADD)$/);
        assert.match(
          e.message,
          /^mixed: random sequence \(seed 7, 200 steps\) differs at step #\d+/,
        );
        assert.match(e.message, /shrunk to 1 steps in \d+ runs\./);
        assert.match(
          e.message,
          /Reproduce with KVDB_DIFF_SEED=7, or with these steps:\n\[\n {2}\["/,
        );
      },
    );

    await t.step("shrinking keeps the earlier step a difference depends on", async () => {
      // With set-max-intset-entries 0 a set of integers is a hashtable at once: only
      // OBJECT ENCODING tells, and only after an SADD of an integer to that key.
      const hashtables = await RedisServer.start({
        name: "redis-hashtable-sets",
        args: ["--set-max-intset-entries", "0"],
      });
      try {
        const templates: Template<StepLike>[] = [
          template(3, (r: Rng) => ["SET", r.pick(KEYS), r.pick(VALUES)]),
          template(3, (r: Rng) => ["SADD", r.pick(KEYS), r.pick(["1", "2", "x"])]),
          template(2, (r: Rng) => ["DEL", r.pick(KEYS)]),
          template(2, (r: Rng) => ["OBJECT", "ENCODING", r.pick(KEYS)]),
          template(2, (r: Rng) => ["GET", r.pick(KEYS)]),
        ];
        const e = await diffRandom(a, hashtables, { templates, seed: 11, length: 300 })
          .catch((x) => x);
        assert.ok(e instanceof DiffError, String(e));
        const steps = e.result.steps.map((s) => s.args as string[]);
        assert.equal(steps.length, 2, e.message);
        assert.equal(steps[0][0], "SADD");
        assert.match(steps[0][2], /^[12]$/);
        assert.deepEqual(steps[1], ["OBJECT", "ENCODING", steps[0][1]]);
        assert.match(e.message, /#1 OBJECT ENCODING \S+\n {2}redis: +"\$6\\r\\nintset\\r\\n"/);
      } finally {
        await hashtables.stop();
      }
    });

    await t.step("a refused handshake is a setup error naming the server", async () => {
      const noHello = await RedisServer.start({
        name: "redis-nohello",
        args: ["--rename-command", "HELLO", ""],
      });
      try {
        const e = await runDiff(a, noHello, [["PING"]], { resp3: true }).catch((x) => x);
        assert.ok(e instanceof DiffSetupError, String(e));
        assert.match(
          e.message,
          /^redis-nohello refused the connection's HELLO 3: "-ERR unknown command/,
        );
      } finally {
        await noHello.stop();
      }
    });
  } finally {
    await Promise.all([a.stop(), b.stop(), oom.stop()]);
  }
});
