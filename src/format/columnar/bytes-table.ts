// Open addressing over byte strings (FOIDs, UTF-8 values) -> a positive int32, with no string made per lookup: the
// join's FOID -> file row and the loader's value -> string id. Keys are copied in (their blocks are reused).

/** The slots of a table and the bytes of its keys; a slot whose value is 0 is empty. */
export class BytesTable {
  vals: Int32Array
  private starts: Int32Array
  private lens: Int32Array
  private bytes: Buffer
  private used = 0
  size = 0

  constructor(private readonly initialSlots = 1024) {
    this.vals = new Int32Array(initialSlots)
    this.starts = new Int32Array(initialSlots)
    this.lens = new Int32Array(initialSlots)
    this.bytes = Buffer.allocUnsafe(initialSlots * 32)
  }

  /** The slot holding these bytes, or the empty slot where they would go. */
  slot(b: Uint8Array, at: number, len: number): number {
    // Every byte counts (hostile traces may share long prefixes), four at a time, mixed as MurmurHash3 does (a
    // multiply alone moves bits only upwards: the rotations bring every byte into the low bits the mask keeps).
    let h = len
    let k = 0
    for (; k + 4 <= len; k += 4) {
      let w = Math.imul(b[at + k] | (b[at + k + 1] << 8) | (b[at + k + 2] << 16) | (b[at + k + 3] << 24), 0xcc9e2d51)
      w = Math.imul((w << 15) | (w >>> 17), 0x1b873593)
      h ^= w
      h = (h << 13) | (h >>> 19)
      h = (Math.imul(h, 5) + 0xe6546b64) | 0
    }
    let w = 0
    for (let sh = 0; k < len; k++, sh += 8) w |= b[at + k] << sh
    w = Math.imul(w, 0xcc9e2d51)
    h ^= Math.imul((w << 15) | (w >>> 17), 0x1b873593)
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    const mask = this.vals.length - 1
    let s = h & mask
    const v = this.vals
    for (;;) {
      if (v[s] === 0 || this.matches(s, b, at, len)) return s
      s = (s + 1) & mask
    }
  }

  /** Does slot s hold these bytes? */
  matches(s: number, b: Uint8Array, at: number, len: number): boolean {
    if (this.lens[s] !== len) return false
    const kb = this.bytes
    const x = this.starts[s]
    for (let k = 0; k < len; k++) if (kb[x + k] !== b[at + k]) return false
    return true
  }

  /**
   * Store `v` (> 0) for new bytes whose empty slot slot() gave: returns the slot they end in (the table grows first
   * when half full, which moves every key).
   */
  insert(s: number, b: Uint8Array, at: number, len: number, v: number): number {
    if (2 * (this.size + 1) > this.vals.length) {
      this.rehash()
      s = this.slot(b, at, len)
    }
    if (this.used + len > this.bytes.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + len))
      this.bytes.copy(nb, 0, 0, this.used)
      this.bytes = nb
    }
    const kb = this.bytes
    const u = this.used
    for (let k = 0; k < len; k++) kb[u + k] = b[at + k]
    this.starts[s] = u
    this.lens[s] = len
    this.used = u + len
    this.vals[s] = v
    this.size++
    return s
  }

  /** Forget every key. */
  clear(): void {
    this.vals = new Int32Array(this.initialSlots)
    this.starts = new Int32Array(this.initialSlots)
    this.lens = new Int32Array(this.initialSlots)
    this.bytes = Buffer.allocUnsafe(this.initialSlots * 32)
    this.used = 0
    this.size = 0
  }

  private rehash(): void {
    const {vals, starts, lens, bytes} = this
    const n = vals.length * 2
    this.vals = new Int32Array(n)
    this.starts = new Int32Array(n)
    this.lens = new Int32Array(n)
    this.bytes = Buffer.allocUnsafe(Math.max(this.used * 2, 1024))
    this.used = 0
    this.size = 0
    for (let s = 0; s < vals.length; s++) {
      if (vals[s] !== 0) this.insert(this.slot(bytes, starts[s], lens[s]), bytes, starts[s], lens[s], vals[s])
    }
  }
}
