// Threads whose exit was dropped (src/capture/live/purge.ts): ended only after drops, only when /proc no longer
// lists them, and only at the second check, so an exit still on its way through the ring buffer wins.
import test from 'ava'
import {GoneThreads} from '../src/capture/live/purge.js'

test('gone threads: none without drops, suspects after drops, ended at the next check if still in the state and gone', (t) => {
  const g = new GoneThreads()
  const state = new Map<number, true>([[10, true], [11, true], [12, true], [13, true]])
  const alive = new Set([10])
  const isAlive = (tid: number) => alive.has(tid)
  // no drops: every exit arrives, nothing is purged even though 11..13 are gone from /proc
  t.deepEqual(g.check(0n, state, isAlive), [])
  t.deepEqual(g.check(0n, state, isAlive), [])
  // drops: 11, 12, 13 become suspects, none ended yet (their exits may still be in the ring)
  t.deepEqual(g.check(5n, state, isAlive), [])
  state.delete(12) // its exit arrived after all
  alive.add(13) // its tid was reused by a new thread
  t.deepEqual(g.check(5n, state, isAlive), [11])
  // no new drops: no new suspects, even for a thread gone since
  alive.delete(10)
  t.deepEqual(g.check(5n, state, isAlive), [])
  t.deepEqual(g.check(5n, state, isAlive), [])
  // more drops: 10, 11 (still in the state: the caller had not ended it) and not 13 (alive)
  t.deepEqual(g.check(9n, state, isAlive), [])
  t.deepEqual(g.check(9n, state, isAlive).sort(), [10, 11])
})
