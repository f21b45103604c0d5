/**
 * The server over real TCP: the text protocol's replies, framing,
 * pipelining, limits and shutdown.
 */

import assert from "node:assert/strict";
import { delay, ServerProcess, TcpClient } from "./_helpers.ts";

Deno.test("the original's example session, exactly", async () => {
  const server = await ServerProcess.start();
  const client = await server.connect();
  try {
    assert.equal(await client.command("SET user1 John"), "OK");
    assert.equal(await client.command("GET user1"), "John");
    assert.equal(await client.command("DEL user1"), "OK");
    assert.equal(await client.command("GET user1"), "ERROR: key not found");
    assert.equal(await client.command("DEL user1"), "ERROR: key not found");
    assert.equal(await client.command("set User1 a"), "OK");
    assert.equal(await client.command("gEt User1"), "a");
    assert.equal(await client.command("GET user1"), "ERROR: key not found");
    assert.match(await client.command("FOO x"), /^ERROR: invalid command/);
    assert.match(await client.command("SET k"), /^ERROR: invalid number of arguments/);
    assert.equal(await client.command(""), "ERROR: empty command");
    assert.equal(await client.command("  \r"), "ERROR: empty command");
  } finally {
    client.close();
    assert.equal(await server.stop(), 0);
  }
});

Deno.test("quoted and binary values round-trip exactly", async () => {
  const server = await ServerProcess.start();
  const client = await server.connect();
  try {
    assert.equal(await client.command('SET "my key" "hello world"'), "OK");
    assert.equal(await client.command("GET 'my key'"), "hello world");
    assert.equal(await client.command('SET k " padded "'), "OK");
    assert.equal(await client.command("GET k"), '" padded "');
    assert.equal(await client.command('SET bin "\\x00\\xff\\n\\r\\t\\"\\\\"'), "OK");
    assert.equal(await client.command("GET bin"), '"\\x00\\xff\\n\\r\\t\\"\\\\"');
    // Raw invalid UTF-8 in an unquoted argument is stored byte for byte.
    await client.send(new Uint8Array([...new TextEncoder().encode("SET raw a"), 0xc3, 0x28, 0x0a]));
    assert.equal(await client.readLine(), "OK");
    assert.equal(await client.command("GET raw"), '"a\\xc3("');
    assert.equal(await client.command('SET e ""'), "OK");
    assert.equal(await client.command("GET e"), '""');
    assert.match(await client.command('SET k "open'), /^ERROR: syntax error/);
    assert.match(await client.command('SET k "a"b'), /^ERROR: syntax error/);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("2,000 pipelined requests in one write are answered in order", async () => {
  const server = await ServerProcess.start();
  const client = await server.connect();
  try {
    let batch = "";
    for (let i = 0; i < 1000; i++) batch += `SET key${i} value${i}\r\nGET key${i}\n`;
    await client.send(batch);
    const replies = await client.readLines(2000);
    for (let i = 0; i < 1000; i++) {
      assert.equal(replies[2 * i], "OK");
      assert.equal(replies[2 * i + 1], `value${i}`);
    }
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("a request split over three packets is one request", async () => {
  const server = await ServerProcess.start();
  const client = await server.connect();
  try {
    await client.send("SE");
    await delay(50);
    await client.send("T split val");
    await delay(50);
    await client.send("ue\nGET split\n");
    assert.deepEqual(await client.readLines(2), ["OK", "value"]);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("an oversized request gets an error, is discarded, and others go on", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "1KiB" } });
  const client = await server.connect();
  const bystander = await server.connect();
  try {
    assert.equal(await bystander.command("SET b 1"), "OK");
    // Exactly at the limit is allowed.
    const fits = "SET k " + "x".repeat(1024 - 6);
    assert.equal(await client.command(fits), "OK");
    // Over the limit, sent in pieces, with no newline for a while.
    await client.send("SET k " + "y".repeat(5000));
    assert.match((await client.readLine())!, /^ERROR: request too large/);
    await client.send("y".repeat(100_000) + "\nGET b\n");
    assert.equal(await client.readLine(), "1");
    assert.equal((await client.command("GET k")).length, 1024 - 6);
    assert.equal(await bystander.command("GET b"), "1");
  } finally {
    client.close();
    bystander.close();
    await server.stop();
  }
});

Deno.test("max_connections: the extra connection gets an error line, then closes", async () => {
  const server = await ServerProcess.start({ network: { max_connections: 2 } });
  const a = await server.connect();
  const b = await server.connect();
  try {
    assert.equal(await a.command("PING"), "PONG");
    assert.equal(await b.command("PING"), "PONG");
    const c = await server.connect();
    assert.match((await c.readLine())!, /^ERROR: max number of clients reached/);
    assert.equal(await c.closedByServer(), true);
    c.close();
    // A RESP client that speaks first is told in RESP.
    const r = await server.connect();
    await r.send("*1\r\n$4\r\nPING\r\n");
    assert.match((await r.readLine())!, /^-ERR max number of clients reached.*\r$/);
    assert.equal(await r.closedByServer(), true);
    r.close();
    // A freed slot is usable again.
    a.close();
    let d: TcpClient | undefined;
    for (let i = 0; i < 50; i++) {
      d = await server.connect();
      const reply = await d.command("PING").catch(() => "closed");
      if (reply === "PONG") break;
      d.close();
      d = undefined;
      await delay(50);
    }
    assert.ok(d, "a slot freed by a closed connection is reused");
    d.close();
  } finally {
    b.close();
    await server.stop();
  }
});

Deno.test("idle connections are closed after idle_timeout; active ones are not", async () => {
  const server = await ServerProcess.start({ network: { idle_timeout: "300ms" } });
  const idle = await server.connect();
  const active = await server.connect();
  try {
    const started = Date.now();
    for (let i = 0; i < 8; i++) {
      assert.equal(await active.command("PING"), "PONG");
      await delay(100);
    }
    assert.match((await idle.readLine())!, /^ERROR: idle timeout/);
    assert.equal(await idle.closedByServer(), true);
    assert.ok(Date.now() - started >= 250, "not closed before the timeout");
    assert.equal(await active.command("PING"), "PONG");
  } finally {
    idle.close();
    active.close();
    await server.stop();
  }
});

Deno.test("SIGTERM and SIGINT: requests read are answered, then exit 0", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const server = await ServerProcess.start();
    const client = await server.connect();
    // One batch small enough for one read: the server has it all or none.
    let batch = "";
    for (let i = 0; i < 400; i++) batch += `SET k${i} v${i}\n`;
    await client.send(batch);
    const exited = server.stop(signal);
    const replies: string[] = [];
    for (let line = await client.readLine(); line !== null; line = await client.readLine()) {
      replies.push(line);
    }
    assert.equal(await exited, 0);
    assert.ok(replies.length === 0 || replies.length === 400, `${replies.length} replies`);
    assert.ok(replies.every((r) => r === "OK"));
    assert.ok(server.logs.some((l) => l.includes("kvdb server stopped")));
    client.close();
  }
});

Deno.test("garbage and abrupt disconnects do not take the server down", async () => {
  const server = await ServerProcess.start();
  try {
    for (let i = 0; i < 20; i++) {
      const c = await server.connect();
      const junk = new Uint8Array(1 + Math.floor(Math.random() * 3000));
      crypto.getRandomValues(junk);
      await c.send(junk).catch(() => {});
      c.close();
    }
    const client = await server.connect();
    assert.equal(await client.command("PING"), "PONG");
    client.close();
  } finally {
    await server.stop();
  }
});
