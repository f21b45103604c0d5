"""redis-py scenarios for tests/redis_py_client_test.ts (issue 14).

Run as `/usr/bin/python3 _redis_py_scenarios.py PORT [SCENARIO ...]`: each
scenario (all when none are named) runs against the server on PORT after a
FLUSHALL, and the last line printed is a JSON object mapping each scenario's
name to null (passed) or the failure with its traceback. The same scenarios
run against redis-server and kvdb: the assertions are Redis's behaviour.

Written the way applications use redis-py 4.x: its defaults (RESP2, a
connection pool), `pipeline()` (a MULTI/EXEC transaction by default),
`transaction()` with WATCH retries, `db=` options, DUMP/RESTORE.
"""

import json
import sys
import threading
import time
import traceback

import redis
from redis.exceptions import ResponseError, WatchError

PORT = int(sys.argv[1])
SOCKET_TIMEOUT_S = 10


def client(**kwargs):
    return redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=SOCKET_TIMEOUT_S, **kwargs)


def raises(exc_type, fragment, fn, *args, **kwargs):
    """fn(*args) raises exc_type whose message contains fragment; returns the error."""
    try:
        result = fn(*args, **kwargs)
    except exc_type as e:
        assert fragment in str(e), f"expected {fragment!r} in {e!r}"
        return e
    raise AssertionError(f"expected {exc_type.__name__} ({fragment!r}), got {result!r}")


SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def connect_with_defaults():
    r = client()
    assert r.ping() is True
    assert r.echo("hello") == b"hello"
    info = r.info()
    assert "redis_version" in info, sorted(info)
    assert r.client_setname("redis-py") is True
    assert r.client_getname() == "redis-py"
    s = client(decode_responses=True)
    assert s.set("greeting", "héllo wörld") is True
    assert s.get("greeting") == "héllo wörld"
    assert r.get("greeting") == "héllo wörld".encode()
    assert r.dbsize() == 1


@scenario
def cache_entries_with_expiry():
    r = client()
    assert r.setex("page:/home", 60, "<html>") is True
    assert r.psetex("page:/about", 60_000, "<p>") is True
    assert 59 <= r.ttl("page:/home") <= 60
    assert 59_000 <= r.pttl("page:/about") <= 60_000
    assert r.set("session:1", "alice", ex=100, nx=True) is True
    assert r.set("session:1", "bob", ex=100, nx=True) is None
    assert r.set("session:1", "carol", xx=True, keepttl=True) is True
    assert 99 <= r.ttl("session:1") <= 100
    assert r.set("session:1", "dave", get=True) == b"carol"
    assert r.ttl("session:1") == -1
    assert r.getex("session:1", px=5000) == b"dave"
    assert 4000 <= r.pttl("session:1") <= 5000
    assert r.getex("session:1", persist=True) == b"dave"
    assert r.ttl("session:1") == -1
    assert r.getdel("session:1") == b"dave"
    assert r.exists("session:1") == 0
    assert r.psetex("short", 50, "x") is True
    time.sleep(0.15)
    assert r.get("short") is None
    raises(ResponseError, "invalid expire time in 'setex' command", r.setex, "k", 0, "v")
    raises(ResponseError, "invalid expire time in 'psetex' command", r.psetex, "k", -5, "v")


@scenario
def counters_and_floats():
    r = client()
    assert r.incr("hits") == 1
    assert r.incrby("hits", 41) == 42
    assert r.decr("hits") == 41
    assert r.decrby("hits", 50) == -9
    assert r.incrbyfloat("price", 10.5) == 10.5
    assert r.incrbyfloat("price", 0.1) == 10.6
    assert r.get("price") == b"10.6"
    for _ in range(3):
        r.incrbyfloat("tenths", 0.1)
    # Redis formats with long double precision: 0.1 three times is "0.3".
    assert r.get("tenths") == b"0.3"
    assert r.incrbyfloat("big", 5.0e3) == 5000.0
    assert r.get("big") == b"5000"
    r.set("sci", "1e3")
    assert r.incrbyfloat("sci", 1) == 1001.0
    assert r.get("sci") == b"1001"
    r.set("word", "abc")
    raises(ResponseError, "value is not an integer or out of range", r.incr, "word")
    raises(ResponseError, "value is not a valid float", r.incrbyfloat, "word", 1)
    r.set("huge", "9223372036854775807")
    raises(ResponseError, "increment or decrement would overflow", r.incr, "huge")
    raises(ResponseError, "increment would produce NaN or Infinity", r.incrbyfloat, "price", "inf")
    assert r.get("price") == b"10.6"


@scenario
def string_editing():
    r = client()
    assert r.append("log", "line1\n") == 6
    assert r.append("log", "line2\n") == 12
    assert r.strlen("log") == 12
    assert r.getrange("log", 0, 4) == b"line1"
    assert r.getrange("log", -6, -2) == b"line2"
    assert r.getrange("log", 100, 200) == b""
    assert r.substr("log", 6, 10) == b"line2"
    assert r.setrange("log", 0, "LINE") == 12
    assert r.get("log") == b"LINE1\nline2\n"
    assert r.setrange("padded", 5, "x") == 6
    assert r.get("padded") == b"\x00\x00\x00\x00\x00x"
    assert r.getset("log", "fresh") == b"LINE1\nline2\n"
    assert r.getset("nothing", "new") is None
    raises(ResponseError, "offset is out of range", r.setrange, "k", -1, "x")
    raises(ResponseError, "string exceeds maximum allowed size", r.setrange, "k", 512 * 1024 * 1024, "x")
    assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert r.mget("a", "missing", "c") == [b"1", None, b"3"]
    assert r.msetnx({"c": "x", "d": "4"}) is False
    assert r.msetnx({"d": "4", "e": "5"}) is True
    assert r.setnx("a", "other") is False
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.lcs("key1", "key2") == b"mytext"
    assert r.lcs("key1", "key2", len=True) == 6
    idx = r.lcs("key1", "key2", idx=True, minmatchlen=4, withmatchlen=True)
    assert idx == [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6], idx
    every = bytes(range(256))
    r.set(every, every[::-1])
    assert r.get(every) == every[::-1]
    assert r.strlen(every) == 256


@scenario
def bitmaps_daily_active_users():
    r = client()
    days = {"mon": [1, 5, 9, 200], "tue": [1, 9, 33], "wed": [9, 1000]}
    for day, users in days.items():
        for user in users:
            assert r.setbit(f"active:{day}", user, 1) == 0
    assert r.setbit("active:mon", 5, 1) == 1
    assert r.getbit("active:mon", 5) == 1
    assert r.getbit("active:mon", 6) == 0
    assert r.getbit("active:mon", 10_000_000) == 0
    assert r.bitcount("active:mon") == 4
    assert r.bitcount("active:wed") == 2
    assert r.bitcount("active:mon", 0, 0) == 2
    assert r.bitcount("active:mon", 0, 15, mode="BIT") == 3
    assert r.bitop("AND", "active:every-day", "active:mon", "active:tue", "active:wed") == 126
    assert r.bitcount("active:every-day") == 1
    assert r.bitop("OR", "active:any-day", "active:mon", "active:tue", "active:wed") == 126
    assert r.bitcount("active:any-day") == 6
    assert r.bitop("XOR", "active:x", "active:mon", "active:tue") == 26
    assert r.bitcount("active:x") == 3
    assert r.bitop("NOT", "active:not-mon", "active:mon") == 26
    assert r.bitcount("active:not-mon") == 26 * 8 - 4
    assert r.bitpos("active:mon", 1) == 1
    assert r.bitpos("active:mon", 0) == 0
    assert r.bitpos("active:tue", 1, 2) == 33
    assert r.bitpos("active:tue", 1, 10, 20, mode="BIT") == -1
    assert r.bitpos("missing", 0) == 0
    assert r.bitpos("missing", 1) == -1
    raises(ResponseError, "bit offset is not an integer or out of range", r.setbit, "b", -1, 1)
    raises(ResponseError, "bit is not an integer or out of range",
           r.execute_command, "SETBIT", "b", 1, 2)
    raises(ResponseError, "BITOP NOT must be called with a single source key", r.bitop, "NOT", "d", "a", "b")


@scenario
def bitfield_counters():
    r = client()
    # Four unsigned 8-bit counters in one string, as rate limiters do.
    bf = r.bitfield("counters")
    bf.incrby("u8", "#0", 1).incrby("u8", "#1", 250).incrby("u8", "#3", 7)
    assert bf.execute() == [1, 250, 7]
    assert r.bitfield("counters").get("u8", "#0").get("u8", "#1").get("u8", "#2").execute() == [1, 250, 0]
    sat = r.bitfield("counters", default_overflow="SAT")
    assert sat.incrby("u8", "#1", 10).execute() == [255]
    fail = r.bitfield("counters", default_overflow="FAIL")
    assert fail.incrby("u8", "#1", 1).execute() == [None]
    wrap = r.bitfield("counters")
    assert wrap.incrby("u8", "#1", 1).execute() == [0]
    signed = r.bitfield("s").set("i16", 0, -1234).get("i16", 0).get("u4", 0).execute()
    assert signed == [0, -1234, 15], signed
    assert r.execute_command("BITFIELD_RO", "s", "GET", "i16", "0") == [-1234]
    raises(ResponseError, "Invalid bitfield type", r.execute_command, "BITFIELD", "s", "GET", "u64", "0")
    raises(ResponseError, "BITFIELD_RO only supports the GET subcommand",
           r.execute_command, "BITFIELD_RO", "s", "SET", "u8", "0", "1")


@scenario
def default_pipeline_is_a_transaction():
    r = client()
    pipe = r.pipeline()
    pipe.set("order:1", "new").incr("orders").get("order:1").setex("order:1:lock", 30, "me")
    assert pipe.execute() == [True, 1, b"new", True]
    # The pipeline object is reusable after execute().
    pipe.incr("orders").incr("orders")
    assert pipe.execute() == [2, 3]
    # A runtime error fails only its command; the others are applied (Redis has no rollback).
    r.set("name", "abc")
    pipe.set("a", 1).incr("name").incr("a")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True and results[2] == 2, results
    assert isinstance(results[1], ResponseError), results
    assert "value is not an integer" in str(results[1])
    pipe.set("b", 1).incr("name").incr("b")
    raises(ResponseError, "value is not an integer", pipe.execute)
    assert r.get("b") == b"2"
    # Not a transaction: the same commands, no MULTI.
    plain = r.pipeline(transaction=False)
    plain.get("a").incr("name").get("b")
    results = plain.execute(raise_on_error=False)
    assert results[0] == b"2" and results[2] == b"2", results


@scenario
def queued_error_aborts_the_whole_transaction():
    r = client()
    pipe = r.pipeline()
    pipe.set("x", "1").execute_command("SET", "y").set("z", "3")
    raises(ResponseError, "wrong number of arguments for 'set' command", pipe.execute)
    assert r.exists("x", "y", "z") == 0
    pipe.set("x", "1").execute_command("NOSUCHCOMMAND", "y")
    raises(ResponseError, "unknown command", pipe.execute)
    assert r.exists("x") == 0
    # The connection is usable after the abort.
    assert pipe.set("x", "ok").get("x").execute() == [True, b"ok"]


@scenario
def transaction_helper_retries_on_conflict():
    r = client()
    other = client()
    r.set("balance", 100)
    calls = []

    def withdraw(pipe):
        calls.append(1)
        balance = int(pipe.get("balance"))
        if len(calls) == 1:
            other.incrby("balance", 50)  # a concurrent deposit: EXEC must fail
        pipe.multi()
        pipe.set("balance", balance - 30)
        pipe.incr("withdrawals")

    assert r.transaction(withdraw, "balance") == [True, 1]
    assert len(calls) == 2, calls
    assert r.get("balance") == b"120"
    value = r.transaction(lambda pipe: int(pipe.get("balance")), "balance", value_from_callable=True)
    assert value == 120


@scenario
def watch_loop_by_hand():
    r = client()
    r.set("stock", 3)
    with r.pipeline() as pipe:
        pipe.watch("stock")
        stock = int(pipe.get("stock"))
        client().decr("stock")
        pipe.multi()
        pipe.set("stock", stock - 1)
        raises(WatchError, "", pipe.execute)
        # UNWATCH by reset: a fresh try commits.
        pipe.reset()
        pipe.watch("stock")
        stock = int(pipe.get("stock"))
        pipe.multi()
        pipe.set("stock", stock - 1)
        assert pipe.execute() == [True]
    assert r.get("stock") == b"1"
    # Expiry and FLUSHDB of a watched key count as changes.
    with r.pipeline() as pipe:
        r.set("temp", "v", px=50)
        pipe.watch("temp")
        time.sleep(0.15)
        assert r.get("temp") is None
        pipe.multi()
        pipe.set("temp", "again")
        raises(WatchError, "", pipe.execute)
    with r.pipeline() as pipe:
        pipe.watch("stock")
        r.flushdb()
        pipe.multi()
        pipe.set("stock", 10)
        raises(WatchError, "", pipe.execute)
    # A watched key nobody touched: EXEC runs; DISCARD drops the queue.
    r.set("stock", 5)
    with r.pipeline() as pipe:
        pipe.watch("stock")
        pipe.multi()
        pipe.incr("stock")
        assert pipe.execute() == [6]
    assert r.execute_command("MULTI") == b"OK"
    assert r.execute_command("DISCARD") == b"OK"
    raises(ResponseError, "DISCARD without MULTI", r.execute_command, "DISCARD")
    raises(ResponseError, "EXEC without MULTI", r.execute_command, "EXEC")


@scenario
def watch_contention_from_threads():
    threads_n, increments = 8, 25
    pool = redis.ConnectionPool(host="127.0.0.1", port=PORT, socket_timeout=SOCKET_TIMEOUT_S,
                                max_connections=threads_n + 2)
    r = redis.Redis(connection_pool=pool)
    attempts = []
    errors = []

    def bump(pipe):
        attempts.append(1)
        current = int(pipe.get("counter") or 0)
        pipe.multi()
        pipe.set("counter", current + 1)

    def worker():
        try:
            for _ in range(increments):
                r.transaction(bump, "counter")
        except Exception as e:  # surfaced below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [], errors
    assert r.get("counter") == str(threads_n * increments).encode()
    assert len(attempts) >= threads_n * increments


@scenario
def databases_by_option_and_select():
    db0 = client()
    db1 = client(db=1)
    db5 = client(db=5)
    assert db1.set("tenant", "one") is True
    assert db5.set("tenant", "five") is True
    assert db0.get("tenant") is None
    assert db1.get("tenant") == b"one"
    assert (db0.dbsize(), db1.dbsize(), db5.dbsize()) == (0, 1, 1)
    # A transaction on a db=1 client runs in database 1.
    assert db1.pipeline().set("a", 1).incr("a").execute() == [True, 2]
    assert db0.exists("a") == 0
    keyspace = db0.info("keyspace")
    assert keyspace["db1"]["keys"] == 2 and keyspace["db5"]["keys"] == 1, keyspace
    assert "db0" not in keyspace
    assert db1.move("a", 0) is True
    assert db0.get("a") == b"2" and db1.exists("a") == 0
    assert db1.set("a", "mine") is True
    assert db1.move("a", 0) is False
    assert db0.swapdb(0, 1) is True
    assert db0.get("tenant") == b"one" and db1.get("a") == b"2"
    assert db5.flushdb() is True
    assert db5.dbsize() == 0 and db0.dbsize() == 2
    assert sorted(db0.scan_iter(match="*")) == [b"a", b"tenant"]
    one = client(single_connection_client=True)
    assert one.select(5) is True
    assert one.set("here", "5") is True
    assert db5.get("here") == b"5"
    raises(ResponseError, "DB index is out of range", one.select, 16)
    raises(ResponseError, "DB index is out of range", db0.move, "a", 16)
    raises(ResponseError, "DB index is out of range", db0.swapdb, 20, 0)
    raises(ResponseError, "invalid first DB index", db0.swapdb, "x", 0)
    raises(ResponseError, "source and destination objects are the same", db0.move, "a", 0)
    r = client()
    assert r.flushall() is True
    assert (db0.dbsize(), db1.dbsize(), db5.dbsize()) == (0, 0, 0)


@scenario
def dump_and_restore():
    r = client()
    value = bytes(range(256)) * 3
    r.set("blob", value)
    payload = r.dump("blob")
    # Redis compresses it (LZF); kvdb need not: only the round trip counts.
    assert isinstance(payload, bytes) and payload[-10:-8] == b"\x0a\x00", payload[-10:]
    assert r.restore("copy", 0, payload) == b"OK"
    assert r.get("copy") == value
    assert r.ttl("copy") == -1
    raises(ResponseError, "BUSYKEY Target key name already exists", r.restore, "copy", 0, payload)
    assert r.restore("copy", 5000, payload, replace=True) == b"OK"
    assert 4000 <= r.pttl("copy") <= 5000
    at_ms = int(time.time() * 1000) + 60_000
    assert r.restore("abs", at_ms, payload, absttl=True) == b"OK"
    assert 58 <= r.ttl("abs") <= 60
    assert r.dump("missing") is None
    broken = payload[:-1] + bytes([payload[-1] ^ 0xFF])
    raises(ResponseError, "DUMP payload version or checksum are wrong", r.restore, "x", 0, broken)
    assert r.exists("x") == 0
    # Across databases, as a migration script does.
    r.set("n", 12345)
    client(db=2).restore("n", 0, r.dump("n"))
    assert client(db=2).get("n") == b"12345"
    assert client(db=2).incr("n") == 12346


@scenario
def session_hash():
    """A web session as a hash: fields set and read, counters, expiry, logout."""
    r = client(decode_responses=True)
    sid = "session:9f2c"
    assert r.hset(sid, mapping={"user_id": "42", "name": "Ada", "cart_items": 0}) == 3
    assert r.expire(sid, 1800) is True
    assert r.hget(sid, "name") == "Ada"
    assert r.hincrby(sid, "cart_items", 2) == 2
    assert r.hincrbyfloat(sid, "cart_total", 19.99) == 19.99
    assert r.hgetall(sid) == {"user_id": "42", "name": "Ada", "cart_items": "2",
                              "cart_total": "19.99"}
    assert r.hmget(sid, ["user_id", "missing"]) == ["42", None]
    assert r.hexists(sid, "name") is True
    assert r.hsetnx(sid, "name", "Eve") == 0
    assert sorted(r.hkeys(sid)) == ["cart_items", "cart_total", "name", "user_id"]
    assert r.hlen(sid) == 4
    assert 1790 <= r.ttl(sid) <= 1800
    assert r.type(sid) == "hash"
    pipe = r.pipeline()
    pipe.hdel(sid, "cart_items", "cart_total")
    pipe.hgetall(sid)
    assert pipe.execute() == [2, {"user_id": "42", "name": "Ada"}]
    raises(ResponseError, "WRONGTYPE", r.get, sid)
    assert r.delete(sid) == 1
    assert r.hgetall(sid) == {}


@scenario
def job_queue_with_brpop_workers():
    """Producers LPUSH jobs; worker threads BRPOP them; every job is done exactly once."""
    jobs_n, workers_n = 200, 4
    pool = redis.ConnectionPool(host="127.0.0.1", port=PORT, socket_timeout=SOCKET_TIMEOUT_S,
                                max_connections=workers_n + 4, decode_responses=True)
    r = redis.Redis(connection_pool=pool)
    done = []
    errors = []
    lock = threading.Lock()

    def worker():
        w = redis.Redis(connection_pool=pool)
        try:
            while True:
                item = w.brpop(["jobs:high", "jobs"], timeout=2)
                if item is None:
                    return
                queue, job = item
                if job == "stop":
                    return
                w.lpush("results", job)
                with lock:
                    done.append((queue, job))
        except Exception as e:  # surfaced below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(workers_n)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # the workers block on empty queues first
    for i in range(jobs_n):
        r.lpush("jobs:high" if i % 10 == 0 else "jobs", f"job{i}")
    while r.llen("results") < jobs_n and not errors:
        time.sleep(0.05)
    for _ in range(workers_n):
        r.lpush("jobs", "stop")
    for t in threads:
        t.join(30)
    assert errors == [], errors
    assert sorted(job for _, job in done) == sorted(f"job{i}" for i in range(jobs_n))
    assert r.llen("results") == jobs_n
    assert r.exists("jobs", "jobs:high") == 0
    # A timeout: nothing arrives, None after about the timeout.
    started = time.time()
    assert r.brpop("empty", timeout=0.3) is None
    assert 0.25 <= time.time() - started < 2
    # The reliable-queue pattern: a job moved atomically to a processing list.
    r.rpush("tasks", "t1", "t2")
    assert r.blmove("tasks", "processing", 1, "LEFT", "RIGHT") == "t1"
    assert r.lrange("processing", 0, -1) == ["t1"]
    assert r.lrem("processing", 1, "t1") == 1
    assert r.lrange("tasks", 0, -1) == ["t2"]


@scenario
def leaderboard():
    """A game leaderboard in a sorted set: scores, ranks, pages, ties."""
    r = client(decode_responses=True)
    board = "leaderboard:2026"
    assert r.zadd(board, {"ada": 3100, "bob": 2800, "cy": 2800, "dee": 4050.5}) == 4
    assert r.zincrby(board, 150, "bob") == 2950.0
    assert r.zadd(board, {"eve": 1000}, nx=True) == 1
    assert r.zadd(board, {"eve": 900}, gt=True) == 0
    assert r.zscore(board, "eve") == 1000.0
    assert r.zrevrange(board, 0, 2, withscores=True) == [("dee", 4050.5), ("ada", 3100.0),
                                                         ("bob", 2950.0)]
    assert r.zrevrank(board, "bob") == 2
    assert r.zrank(board, "eve") == 0
    assert r.zcard(board) == 5
    assert r.zcount(board, 2900, "+inf") == 3
    assert r.zrangebyscore(board, "(2800", 3100) == ["bob", "ada"]
    assert r.zrange(board, 0, 1, desc=True) == ["dee", "ada"]
    assert r.zmscore(board, ["ada", "nobody"]) == [3100.0, None]
    assert r.zpopmin(board) == [("eve", 1000.0)]
    assert r.zrem(board, "cy") == 1
    # Weekly and all-time boards combined.
    r.zadd("week", {"ada": 10, "zed": 5})
    assert r.zunionstore("total", {board: 1, "week": 2}) == 4
    assert r.zrevrange("total", 0, 0, withscores=True) == [("dee", 4050.5)]
    assert r.zscore("total", "ada") == 3120.0
    assert r.zinter([board, "week"], withscores=True) == [("ada", 3110.0)]
    raises(ResponseError, "WRONGTYPE", r.lpush, board, "x")
    # Tags on players as sets.
    assert r.sadd("tags:ada", "pro", "eu", "streamer") == 3
    assert r.sadd("tags:bob", "eu", "casual") == 2
    assert r.sinter("tags:ada", "tags:bob") == {"eu"}
    assert r.sismember("tags:ada", "pro") is True
    assert sorted(r.sunion("tags:ada", "tags:bob")) == ["casual", "eu", "pro", "streamer"]


@scenario
def password_and_acl_user():
    """requirepass and an ACL user, as applications configure redis-py."""
    admin = client()
    admin.acl_deluser("app")
    try:
        assert admin.config_set("requirepass", "s3cret") is True
        raises(redis.AuthenticationError, "Authentication required", client().ping)
        raises(ResponseError, "invalid username-password pair", client(password="bad").ping)
        authed = client(password="s3cret")
        assert authed.ping() is True
        assert authed.acl_whoami() == "default"
        assert authed.acl_setuser(
            "app", enabled=True, passwords=["+apppw"], keys=["app:*"],
            commands=["+@read", "+@write", "-flushall", "+acl|whoami"],
        ) is True
        app = client(username="app", password="apppw", decode_responses=True)
        assert app.acl_whoami() == "app"
        assert app.set("app:1", "v") is True
        assert app.get("app:1") == "v"
        raises(redis.exceptions.NoPermissionError, "no permissions to access one of the keys",
               app.get, "other")
        raises(redis.exceptions.NoPermissionError, "no permissions to run the 'flushall' command",
               app.flushall)
        raises(ResponseError, "invalid username-password pair",
               client(username="app", password="wrong").ping)
        user = authed.acl_getuser("app")
        assert user["keys"] in (["~app:*"], "~app:*"), user
        assert "on" in user["flags"], user
        log = authed.acl_log()
        assert any(e["reason"] == "key" and e["object"] == "other" for e in log), log
    finally:
        fixer = client(password="s3cret")
        try:
            fixer.acl_deluser("app")
            fixer.config_set("requirepass", "")
        except redis.AuthenticationError:
            pass


def main():
    names = sys.argv[2:] or list(SCENARIOS)
    results = {}
    for name in names:
        try:
            client().flushall()
            SCENARIOS[name]()
            results[name] = None
        except Exception:
            results[name] = traceback.format_exc(limit=4)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
