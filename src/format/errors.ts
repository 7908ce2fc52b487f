// Typed errors of the format library. Each names the input and a byte offset; src/cli turns them into one line
// and an exit code. The library never prints.

export class TraceError extends Error {
  constructor(
    readonly file: string,
    /** Byte offset in the file where the problem was found (-1 when it does not apply). */
    readonly offset: number,
    readonly problem: string,
  ) {
    super(offset >= 0 ? `${file}: byte ${offset}: ${problem}` : `${file}: ${problem}`)
    this.name = new.target.name
  }
}

/** The input is not an Avro object container file at all. */
export class NotAvroError extends TraceError {}
/** The input has no bytes. */
export class EmptyInputError extends TraceError {}
/** The input ends inside the header or a block. */
export class TruncatedInputError extends TraceError {}
/** A block's sync marker, compression or records are damaged (only thrown with `strict`; otherwise a warning). */
export class CorruptBlockError extends TraceError {}
/** The writer schema is unusable, or the codec is unknown. */
export class TraceSchemaError extends TraceError {}
/** A path that names nothing readable. */
export class InputPathError extends TraceError {}

/** Something recovered from: reported, counted, and the reading goes on. */
export interface ReadWarning {
  file: string
  offset: number
  message: string
  /** Records known to be lost (a corrupt block's declared count), 0 when unknown. */
  skippedRecords: number
  skippedBytes: number
  /** The skipped records were intact, of a record type this reader cannot read (not damage). */
  unreadableType?: true
}
