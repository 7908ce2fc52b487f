// The file and new-file key groups' values (path, oid, name, directory, symlink, type) written straight from the
// scope's File row as bytes, where the catalogue's value() would give exactly those bytes: a present ASCII path
// without a socket's "->", a present FOID, an ASCII file type. Anything else (a missing path or FOID, non-ASCII
// text, socket endpoints) goes through value() as before. A trace has nearly as many files as file flows (166 k
// keys on the 2M-record bench trace), and value() costs ~4 µs a file for its six columns: a third of the main
// thread's keyed work. test/parquet-columns.test.ts compares every cell with the DuckDB-written export, which
// reads the catalogue.
import {BytesColumn, IntColumn, PRESENT, specOf} from '../columnar/columns.js'
import {EntityStore} from '../columnar/join.js'
import {Kind} from '../records.js'
import {KeyedValues, ScalarValues} from './prepare.js'

const F = specOf(Kind.File)
const F_PATH = F.col('path')
const F_OID = F.col('oid')
const F_RESTYPE = F.col('restype')

const PATH = 0
const OID = 1
const NAME = 2
const DIRECTORY = 3
const SYMLINK = 4
const TYPE = 5
const PARTS = new Map([['path', PATH], ['oid', OID], ['name', NAME], ['directory', DIRECTORY], ['symlink', SYMLINK], ['type', TYPE]])

const SLASH = 0x2f
const QUESTION = Uint8Array.of(0x3f)

export class FileValues {
  private readonly scratch = new Uint8Array(1)
  private readonly needsType: boolean

  private constructor(private readonly parts: Int32Array, private readonly accs: ScalarValues[]) {
    this.needsType = parts.includes(TYPE)
  }

  /** The writer of a group's columns (events column names and accumulators), if it knows every one of them. */
  static of(names: readonly string[], accs: readonly KeyedValues[]): FileValues | undefined {
    const parts = names.map((n) => PARTS.get(/^file_(?:new)?([a-z]+)$/.exec(n)?.[1] ?? '') ?? -1)
    if (parts.includes(-1) || !accs.every((a) => a instanceof ScalarValues)) return undefined
    return new FileValues(Int32Array.from(parts), accs as ScalarValues[])
  }

  /** Add the values of file row g of `files` to every column; false (nothing added) where value() must. */
  add(files: EntityStore, g: number): boolean {
    files.locate(g)
    const t = files.table
    const r = files.row
    const pathCol = t.cols[F_PATH] as BytesColumn | undefined
    const oidCol = t.cols[F_OID] as BytesColumn | undefined
    if (pathCol === undefined || pathCol.s[r] !== PRESENT || oidCol === undefined || oidCol.s[r] !== PRESENT) return false
    let type = QUESTION
    if (this.needsType) {
      const typeCol = t.cols[F_RESTYPE] as IntColumn | undefined
      if (typeCol === undefined || typeCol.s[r] !== PRESENT) return false
      const v = typeCol.v[r]
      // fileTypeChar: the code point, '?' outside Unicode; beyond ASCII through value() (its UTF-8).
      if (v >= 0 && v <= 0x7f) {
        this.scratch[0] = v
        type = this.scratch
      } else if (v <= 0x10ffff && v >= 0) return false
    }
    const b = pathCol.b
    const a = pathCol.st[r]
    const n = pathCol.ln[r]
    // ASCII (bytes are then the text's code units), no "->", and where the last slash is.
    let slash = -1
    for (let k = 0; k < n; k++) {
      const c = b[a + k]
      if (c > 0x7f || (c === 0x3e && k > 0 && b[a + k - 1] === 0x2d)) return false
      if (c === SLASH) slash = k
    }
    const parts = this.parts
    const accs = this.accs
    for (let k = 0; k < parts.length; k++) {
      const acc = accs[k]
      switch (parts[k]) {
        case PATH:
          acc.addUtf8(b, a, n)
          break
        case OID:
          acc.addHex(oidCol.b, oidCol.st[r], oidCol.ln[r])
          break
        case NAME: {
          // basename: trailing slashes dropped (all but a lone one), then what follows the last slash.
          let end = n
          while (end > 1 && b[a + end - 1] === SLASH) end--
          let s = end === n ? slash : -1
          if (end !== n) for (let q = end - 1; q >= 0; q--) if (b[a + q] === SLASH) { s = q; break }
          acc.addUtf8(b, a + s + 1, end - s - 1)
          break
        }
        case DIRECTORY:
          // dirname: before the last slash; "/" for a slash first; "" for none.
          if (slash < 0) acc.addUtf8(b, a, 0)
          else acc.addUtf8(b, a, slash === 0 ? 1 : slash)
          break
        case SYMLINK:
          acc.addUtf8(b, a, 0)
          break
        case TYPE:
          acc.addUtf8(type, 0, 1)
          break
      }
    }
    return true
  }
}
