/**
 * ACL users (issue: AUTH, point 2) through real clients and files:
 * redis-cli with --user/--pass, changes reaching open connections, DELUSER
 * closing the deleted user's connections, a subscriber closed when its
 * channels are revoked, COMMAND INFO's categories, and security.acl_file —
 * loaded at start, ACL SAVE in Redis's format (which redis-server itself
 * loads back to the same users), ACL LOAD all-or-nothing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  delay,
  ensureRedisServer,
  freePort,
  RespClient,
  RespError,
  RespStatus,
  withServer,
} from "./_helpers.ts";

function errorText(reply: unknown): string {
  assert.ok(reply instanceof RespError, `expected an error, got ${JSON.stringify(reply)}`);
  return reply.text;
}

const OK = new RespStatus("OK");

async function redisCli(port: number, args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return (text.decode(out.stdout) + text.decode(out.stderr)).trim();
}

/**
 * ACL LIST of a redis-server started with `--aclfile file`, logged in as
 * default with `password` (its readiness is a successful AUTH).
 */
async function redisAclList(aclFile: string, password: string): Promise<string[]> {
  await ensureRedisServer();
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--aclfile", aclFile],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const r = await RespClient.connect(port);
        try {
          assert.deepEqual(await r.call("AUTH", password), OK);
          return await r.call("ACL", "LIST") as string[];
        } finally {
          r.close();
        }
      } catch (e) {
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          const out = await output;
          throw new Error(`redis-server --aclfile: ${e}\n${new TextDecoder().decode(out.stdout)}`);
        }
        await delay(50);
      }
    }
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await output;
  }
}

Deno.test("redis-cli --user/--pass as an ACL user: allowed, NOPERM, WRONGPASS", async () => {
  await withServer({}, async (server) => {
    const admin = await RespClient.connect(server.port);
    try {
      assert.deepEqual(
        await admin.call("ACL", "SETUSER", "app", "on", ">pw", "~app:*", "+@all", "-@dangerous"),
        OK,
      );
      const cli = (args: string[]) =>
        redisCli(server.port, ["--user", "app", "--pass", "pw", "--no-auth-warning", ...args]);
      assert.equal(await cli(["SET", "app:1", "v"]), "OK");
      assert.equal(await cli(["GET", "app:1"]), "v");
      assert.equal(
        await cli(["GET", "other"]),
        "NOPERM this user has no permissions to access one of the keys used as arguments",
      );
      assert.equal(
        await cli(["FLUSHALL"]),
        "NOPERM this user has no permissions to run the 'flushall' command",
      );
      assert.equal(await cli(["ACL", "WHOAMI"]), "app");
      assert.match(
        await redisCli(server.port, [
          "--user",
          "app",
          "--pass",
          "bad",
          "--no-auth-warning",
          "PING",
        ]),
        /WRONGPASS invalid username-password pair or user is disabled/,
      );
      // COMMAND INFO shows each command's categories.
      const info = await admin.call("COMMAND", "INFO", "get") as unknown[][];
      assert.deepEqual(info[0][6], ["@read", "@string", "@fast"].map((c) => new RespStatus(c)));
    } finally {
      admin.close();
    }
  });
});

Deno.test("a user's changes reach its open connections; DELUSER closes them", async () => {
  await withServer({}, async (server) => {
    const admin = await RespClient.connect(server.port);
    const app = await RespClient.connect(server.port);
    const app2 = await RespClient.connect(server.port);
    try {
      assert.deepEqual(await admin.call("ACL", "SETUSER", "app", "on", ">pw", "~*", "+@all"), OK);
      assert.deepEqual(await app.call("AUTH", "app", "pw"), OK);
      assert.deepEqual(await app2.call("AUTH", "app", "pw"), OK);
      assert.equal(await app.call("GET", "k"), null);
      assert.deepEqual(await admin.call("ACL", "SETUSER", "app", "-get", "resetkeys", "~a*"), OK);
      assert.equal(
        errorText(await app.call("GET", "a1")),
        "NOPERM this user has no permissions to run the 'get' command",
      );
      assert.equal(
        errorText(await app.call("SET", "b1", "v")),
        "NOPERM this user has no permissions to access one of the keys used as arguments",
      );
      assert.deepEqual(await app.call("SET", "a1", "v"), OK);
      // `off` stops new logins (open connections go on, as in Redis 7.0).
      assert.deepEqual(await admin.call("ACL", "SETUSER", "app", "off"), OK);
      const late = await RespClient.connect(server.port);
      assert.match(errorText(await late.call("AUTH", "app", "pw")), /^WRONGPASS/);
      late.close();
      assert.equal(await admin.call("ACL", "DELUSER", "app"), 1);
      assert.ok(await app.closedByServer(5000), "the deleted user's connection is closed");
      assert.ok(await app2.closedByServer(5000), "every one of them");
      assert.deepEqual(await admin.call("ACL", "USERS"), ["default"]);
    } finally {
      admin.close();
      app.close();
      app2.close();
    }
  });
});

Deno.test("a subscriber whose channels are revoked is closed", async () => {
  await withServer({}, async (server) => {
    const admin = await RespClient.connect(server.port);
    const sub = await RespClient.connect(server.port);
    try {
      assert.deepEqual(
        await admin.call("ACL", "SETUSER", "s", "on", ">pw", "+@all", "~*", "&news*"),
        OK,
      );
      assert.deepEqual(await sub.call("AUTH", "s", "pw"), OK);
      assert.equal(
        errorText(await sub.call("SUBSCRIBE", "sport")),
        "NOPERM this user has no permissions to access one of the channels used as arguments",
      );
      assert.deepEqual(await sub.call("SUBSCRIBE", "news.today"), ["subscribe", "news.today", 1]);
      // Still allowed: kept.
      assert.deepEqual(await admin.call("ACL", "SETUSER", "s", "&other"), OK);
      assert.equal(await admin.call("PUBLISH", "news.today", "m1"), 1);
      assert.deepEqual((await sub.read()).value, ["message", "news.today", "m1"]);
      assert.deepEqual(await admin.call("ACL", "SETUSER", "s", "resetchannels", "&other"), OK);
      assert.ok(await sub.closedByServer(5000), "closed once news* was revoked");
    } finally {
      admin.close();
      sub.close();
    }
  });
});

Deno.test("security.acl_file: loaded at start, ACL SAVE in Redis's format, ACL LOAD all or nothing", async () => {
  await ensureRedisServer();
  const dir = await Deno.makeTempDir({ prefix: "kvdb-acl-file-" });
  const aclFile = join(dir, "users.acl");
  await Deno.writeTextFile(
    aclFile,
    "user default on #" + "0".repeat(64) + " ~* &* +@all\n" +
      "user app on >apppw ~app:* %R~shared:* resetchannels &jobs -@all +@read +@write -flushall\n\n",
  );
  try {
    await withServer({ security: { acl_file: aclFile } }, async (server) => {
      const stranger = await RespClient.connect(server.port);
      assert.equal(errorText(await stranger.call("PING")), "NOAUTH Authentication required.");
      stranger.close();
      const app = await RespClient.connect(server.port);
      assert.deepEqual(await app.call("AUTH", "app", "apppw"), OK);
      assert.deepEqual(await app.call("SET", "app:1", "v"), OK);
      assert.equal(await app.call("GET", "shared:1"), null);
      assert.match(errorText(await app.call("SET", "shared:1", "v")), /^NOPERM .*keys/);

      // An admin defined at run time, then saved.
      const setup = await RespClient.connect(server.port);
      assert.deepEqual(await setup.call("AUTH", "app", "apppw"), OK);
      assert.match(errorText(await setup.call("ACL", "SETUSER", "x")), /^NOPERM/);
      setup.close();
      // Log in as default: its password is only known by hash, so set one through the file.
      await Deno.writeTextFile(
        aclFile,
        "user default on >rootpw ~* &* +@all\n" +
          "user app on >apppw ~app:* %R~shared:* resetchannels &jobs -@all +@read +@write -flushall\n",
      );
      const root = await RespClient.connect(server.port);
      // The old file's default user is still in force until ACL LOAD.
      assert.match(errorText(await root.call("AUTH", "rootpw")), /^WRONGPASS/);
      root.close();
      // A kvdb with the new file: ACL LOAD, SAVE and redis-server's view of the saved file.
    });
    await withServer({ security: { acl_file: aclFile } }, async (server) => {
      const root = await RespClient.connect(server.port);
      const app = await RespClient.connect(server.port);
      try {
        assert.deepEqual(await root.call("AUTH", "rootpw"), OK);
        assert.deepEqual(await app.call("AUTH", "app", "apppw"), OK);
        assert.deepEqual(
          await root.call(
            "ACL",
            "SETUSER",
            "ops",
            "on",
            ">opspw",
            "~*",
            "&*",
            "+@all",
            "-@dangerous",
            "(+get ~x*)",
          ),
          OK,
        );
        assert.deepEqual(await root.call("ACL", "SAVE"), OK);
        const saved = await Deno.readTextFile(aclFile);
        const kvdbList = await root.call("ACL", "LIST") as string[];
        assert.equal(saved, kvdbList.join("\n") + "\n");
        assert.ok(!saved.includes("opspw") && !saved.includes("rootpw"), "only hashes are saved");

        // redis-server loads kvdb's file to the same users.
        const redisList = await redisAclList(aclFile, "rootpw");
        const sortSingles = (line: string) =>
          line.split(" ").filter((w) => !/^[+-][^@]/.test(w)).join(" ") + " | " +
          line.split(" ").filter((w) => /^[+-][^@]/.test(w)).sort().join(" ");
        assert.deepEqual(redisList.map(sortSingles), kvdbList.map(sortSingles));

        // A bad file: ACL LOAD refuses it whole, nothing changes.
        await Deno.writeTextFile(aclFile, saved + "user broken on +nosuchcommand\n");
        assert.match(
          errorText(await root.call("ACL", "LOAD")),
          /users\.acl:4: Unknown command or category name in ACL\. WARNING: ACL errors detected, no change/,
        );
        assert.deepEqual(await root.call("ACL", "USERS"), ["app", "default", "ops"]);
        assert.equal(await app.call("GET", "app:1"), null);

        // A good file replaces the users; the old users' connections are closed.
        await Deno.writeTextFile(
          aclFile,
          "user default on >rootpw ~* &* +@all\nuser solo on nopass +ping\n",
        );
        assert.deepEqual(await root.call("ACL", "LOAD"), OK);
        assert.deepEqual(await root.call("ACL", "USERS"), ["default", "solo"]);
        assert.ok(await app.closedByServer(5000), "app's connection is closed by ACL LOAD");
        assert.equal(await root.call("ACL", "WHOAMI"), "default");
      } finally {
        root.close();
        app.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("secrets never show in SLOWLOG or MONITOR: AUTH, HELLO AUTH, ACL SETUSER, CONFIG SET requirepass", async () => {
  await withServer({}, async (server) => {
    const admin = await RespClient.connect(server.port);
    const monitor = await RespClient.connect(server.port);
    try {
      assert.deepEqual(await admin.call("CONFIG", "SET", "slowlog-log-slower-than", "0"), OK);
      assert.deepEqual(await admin.call("SLOWLOG", "RESET"), OK);
      assert.deepEqual(await monitor.call("MONITOR"), OK);
      const secrets: string[][] = [
        ["ACL", "SETUSER", "app", "on", ">topsecret1", "~*", "+@all"],
        ["AUTH", "app", "topsecret1"],
        ["HELLO", "2", "AUTH", "app", "topsecret1"],
        ["CONFIG", "SET", "requirepass", "topsecret2"],
        ["AUTH", "topsecret2"],
        ["CONFIG", "SET", "requirepass", ""],
        ["CONFIG", "SET", "masterauth", "topsecret3"],
        ["CONFIG", "SET", "masteruser", "topsecret4"],
      ];
      for (const command of secrets) await admin.call(...command);
      // MONITOR is not sent admin commands (ACL, CONFIG), as in Redis: AUTH, HELLO, AUTH.
      const lines: string[] = [];
      for (let i = 0; i < 3; i++) {
        const line = (await monitor.read()).value;
        lines.push(line instanceof RespStatus ? line.text : JSON.stringify(line));
      }
      const slow = JSON.stringify(await admin.call("SLOWLOG", "GET", "20"));
      for (const text of [...lines, slow]) {
        assert.ok(!text.includes("topsecret"), `a secret shows: ${text}`);
      }
      assert.match(lines[0], /"AUTH" "\(redacted\)" "\(redacted\)"$/);
      assert.match(lines[1], /"HELLO" "2" "AUTH" "\(redacted\)" "\(redacted\)"$/);
      assert.match(slow, /"ACL","SETUSER","\(redacted\)","\(redacted\)"/);
      assert.match(slow, /"CONFIG","SET","requirepass","\(redacted\)"/);
      // As redis-server 7.0.15's SLOWLOG shows them.
      assert.match(slow, /"CONFIG","SET","masterauth","\(redacted\)"/);
      assert.match(slow, /"CONFIG","SET","masteruser","\(redacted\)"/);
    } finally {
      admin.close();
      monitor.close();
    }
  });
});
