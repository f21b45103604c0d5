import assert from "node:assert/strict";
import { seededRandom } from "../_seeded_random.ts";
import { MAX_ARENA_MEMBER_BYTES, MemberArena } from "./member_arena.ts";
import { MIGRATION_STEP_SLOTS } from "./migrating_arena.ts";

Deno.test("MemberArena: a half-dead arena migrates a few slots per change, members moved between slots included", () => {
  const arena = new MemberArena();
  const n = 200_000;
  // Slots 0..n-1 dense, as a set's member table keeps them: a delete moves the last into the hole.
  const model: string[] = [];
  arena.reserve(n);
  for (let i = 0; i < n; i++) {
    arena.add(i, `member:${i}`);
    model.push(`member:${i}`);
  }
  const removeAt = (slot: number) => {
    const last = model.length - 1;
    arena.delete(slot);
    if (slot !== last) arena.move(last, slot);
    model[slot] = model[last];
    model.pop();
  };
  let seed = 3;
  const next = (m: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % m;
  let changes = 0;
  let migratingChanges = 0;
  let migrations = 0;
  let added = n;
  // Churn: remove a random member, add a new one, until two migrations have begun and ended
  // (each begun with a run of removals).
  while (migrations < 2 || arena.migrating) {
    const was = arena.migrating;
    removeAt(next(model.length));
    const slot = model.length;
    arena.reserve(slot + 1);
    arena.add(slot, `member:${added++}`);
    model.push(`member:${added - 1}`);
    changes++;
    if (arena.migrating) migratingChanges++;
    if (!was && arena.migrating) {
      migrations++;
      // Removals alone: the last slots, still in the old arena, move into walked slots.
      for (let k = 0; k < 2000; k++) {
        removeAt(next(model.length));
        changes++;
        if (arena.migrating) migratingChanges++;
      }
    }
    if (changes % 20_000 === 0 || (was && !arena.migrating)) {
      for (let s = 0; s < model.length; s++) assert.equal(arena.get(s), model[s], `slot ${s}`);
    }
    assert.ok(changes < 10 * n, "the churn ends");
  }
  // Each migration walks every slot, MIGRATION_STEP_SLOTS per add and per delete: spread over
  // at least ~n / 128 changes, not done in one (a one-step compaction is never seen migrating).
  assert.ok(
    migratingChanges >= 2 * (n / (2 * MIGRATION_STEP_SLOTS)) - 4,
    `${migratingChanges} changes while migrating`,
  );
  for (let s = 0; s < model.length; s++) assert.equal(arena.get(s), model[s]);
  // What is left in use is about what is live (the old arenas are gone).
  const live = model.reduce((sum, m) => sum + m.length + 1, 0);
  assert.ok(arena.arenaBytes < 2 * live + 2 * 1024 * 1024, `${arena.arenaBytes} bytes for ${live}`);
});

Deno.test("MemberArena: random adds, deletes and moves through migrations, with growing room and string-held members, agree with a model", () => {
  const random = seededRandom(5);
  const next = (m: number) => (random() * m) | 0;
  const arena = new MemberArena();
  const model = new Map<number, string>();
  let capacity = 16;
  arena.reserve(capacity);
  let ends = 0;
  const memberOf = () => {
    const kind = next(100);
    const length = kind === 0
      ? MAX_ARENA_MEMBER_BYTES + 3
      : kind < 5
      ? 200
      : kind < 10
      ? 0
      : 1 + next(40);
    return "m".repeat(length) + next(1_000_000);
  };
  for (let i = 0; i < 200_000; i++) {
    const was = arena.migrating;
    const limit = Math.max(16, Math.min(capacity, 4000 + (i >> 4)));
    const op = next(100);
    if (op < 45) {
      const slot = next(limit + 64);
      if (slot >= capacity) arena.reserve(capacity = slot + 1);
      if (!model.has(slot)) {
        const member = memberOf();
        arena.add(slot, member);
        model.set(slot, member);
      }
    } else if (op < 80) {
      const slot = next(limit);
      if (model.has(slot)) {
        arena.delete(slot);
        model.delete(slot);
      }
    } else {
      const from = next(limit);
      const to = next(limit);
      if (model.has(from) && !model.has(to)) {
        arena.move(from, to);
        model.set(to, model.get(from)!);
        model.delete(from);
      }
    }
    if (was && !arena.migrating) {
      ends++;
      for (let slot = 0; slot < capacity; slot++) {
        assert.equal(arena.held(slot), model.has(slot), `slot ${slot}`);
        if (model.has(slot)) assert.equal(arena.get(slot), model.get(slot));
      }
    }
  }
  assert.ok(ends > 0, "migrations ended (and the checks above ran)");
  for (const [slot, member] of model) assert.equal(arena.get(slot), member);
});
