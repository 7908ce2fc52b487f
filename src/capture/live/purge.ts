// Threads whose exit was lost. When the probe drops records (the reader fell behind), some of them are exits, and
// a thread whose exit never arrives would stay in the state, with its process and flows, for the rest of the
// capture: memory that grows with every drop. libsinsp meets the same problem by purging threads that /proc no
// longer lists; so do we, but only after drops (without drops every exit arrives) and in two steps: a thread gone
// from /proc is ended only if it is still in the state at the next check, by when its exit, were it merely still
// in the ring buffer, would have been read.

export class GoneThreads {
  private lostSeen = 0n
  private suspects = new Set<number>()

  /**
   * One check: `lost` is the probe's drop counter, `state` the threads in the state (by tid), `alive(tid)` whether
   * /proc still lists it. Returns the threads to end now: suspects of the last check still in the state and gone.
   */
  check(lost: bigint, state: {has(tid: number): boolean; keys(): Iterable<number>}, alive: (tid: number) => boolean): number[] {
    const end = [...this.suspects].filter((tid) => state.has(tid) && !alive(tid))
    this.suspects = new Set()
    if (lost !== this.lostSeen) {
      this.lostSeen = lost
      const ending = new Set(end)
      for (const tid of state.keys()) if (!ending.has(tid) && !alive(tid)) this.suspects.add(tid)
    }
    return end
  }
}
