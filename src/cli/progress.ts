// The convert progress bar on stderr (a terminal only): bytes read of the total, the read rate, the time left, and a
// "finishing" state once every input is read while the output is still being written (a Parquet footer, the rename),
// which can take seconds on a large trace and would otherwise look like a bar stuck at 100%.

export interface ProgressState {
  read: number
  total: number
  /** Milliseconds since the start. */
  elapsedMs: number
  /** Every input has been read; the output is being completed. */
  finishing?: boolean
}

const mb = (n: number) => (n / 1e6).toFixed(1)

/** 75 s -> "1:15", 3725 s -> "1:02:05". */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** One line of progress, without the carriage return. */
export function progressText(p: ProgressState, width = 30): string {
  const read = Math.min(p.read, p.total)
  const f = p.total > 0 ? read / p.total : 1
  const bar = `[${'#'.repeat(Math.round(f * width)).padEnd(width, '-')}] ${(f * 100).toFixed(0).padStart(3)}% ${mb(read)}/${mb(p.total)} MB`
  const seconds = p.elapsedMs / 1000
  if (p.finishing) return `${bar}, finishing the output (${clock(seconds)} so far)`
  // Rate and time left from the average so far; not shown until there is something to average.
  if (seconds < 0.5 || read === 0) return bar
  const rate = read / seconds
  return `${bar}, ${mb(rate)} MB/s, ${clock((p.total - read) / rate)} left`
}

/** Redraws at most ten times a second; `finish` draws the finishing state at once and keeps its clock ticking. */
export class Progress {
  private last = 0
  private read = 0
  private timer: NodeJS.Timeout | undefined
  private readonly t0: number

  constructor(
    private readonly total: number,
    private readonly write: (s: string) => void = (s) => process.stderr.write(s),
    private readonly now: () => number = Date.now,
  ) {
    this.t0 = now()
  }

  update = (read: number): void => {
    this.read = read
    if (read >= this.total) {
      this.finish()
      return
    }
    const t = this.now()
    if (t - this.last < 100) return
    this.draw({read, total: this.total, elapsedMs: t - this.t0})
  }

  /** Every input is read. */
  finish(): void {
    if (this.timer) return
    const tick = () => this.draw({read: this.read, total: this.total, elapsedMs: this.now() - this.t0, finishing: true})
    tick()
    this.timer = setInterval(tick, 1000)
    this.timer.unref()
  }

  private draw(p: ProgressState): void {
    this.last = this.now()
    this.write(`\r${progressText(p)}\x1b[K`)
  }

  clear(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.last > 0) this.write('\r\x1b[K')
  }
}

/** query's loading line: records loaded, bytes of the total, and (once there is an average) rate and time left. */
export function loadingText(p: {events: number; bytes: number; totalBytes: number}, elapsedMs: number): string {
  let s = `loading: ${p.events.toLocaleString('en-US')} records`
  if (p.totalBytes <= 0) return s
  const read = Math.min(p.bytes, p.totalBytes)
  s += `, ${mb(read)}/${mb(p.totalBytes)} MB`
  const seconds = elapsedMs / 1000
  if (read >= p.totalBytes) return `${s}, finishing`
  if (seconds < 0.5 || read === 0) return s
  const rate = read / seconds
  return `${s}, ${mb(rate)} MB/s, ${clock((p.totalBytes - read) / rate)} left`
}
