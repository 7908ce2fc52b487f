// Finding libscap: the --libscap flag, then SYSFLOW_LIBSCAP, then the system library paths. One clear error when
// none is usable. Loading also checks the ABI this code was written for (the packed event table geometry).
import fs from 'node:fs'
import {createExternalBuffer} from 'ffi-rs'
import {openLibraries, scap_get_event_info_table} from './bindings.js'

/** libscap could not be found or is not the version this code understands. Exit code 3: capture unavailable. */
export class LibscapUnavailableError extends Error {
  readonly exitCode = 3
  constructor(message: string) {
    super(message)
    this.name = 'LibscapUnavailableError'
  }
}

export const SYSTEM_LIBSCAP_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libscap.so',
  '/usr/lib/aarch64-linux-gnu/libscap.so',
  '/usr/lib/libscap.so',
  '/usr/local/lib/libscap.so',
  '/usr/lib64/libscap.so',
]

/** Event table geometry of the Debian snapshot: PPM_EVENT_MAX entries of packed ppm_event_info. */
export const PPM_EVENT_MAX = 336
export const EVENT_INFO_SIZE = 1612
export const PARAM_INFO_SIZE = 49

const INSTALL_HINT = 'install the Debian package libfalcosecurity0 (apt-get install libfalcosecurity0), or give its path with --libscap or SYSFLOW_LIBSCAP'

/** The system libscap (the unversioned link from -dev, else the versioned file of libfalcosecurity0). */
export function findSystemLibscap(): string | undefined {
  for (const p of SYSTEM_LIBSCAP_PATHS) {
    if (fs.existsSync(p)) return p
    // The package ships the versioned file; the unversioned link comes with -dev.
    const dir = p.slice(0, p.lastIndexOf('/'))
    try {
      const v = fs.readdirSync(dir).find((f) => f.startsWith('libscap.so.'))
      if (v) return `${dir}/${v}`
    } catch {
      // directory absent
    }
  }
  return undefined
}

let loaded: string | undefined

/** Resolve and open libscap once per process; returns the path used. Throws LibscapUnavailableError. */
export function loadLibscap(explicit?: string): string {
  const wanted = explicit ?? (process.env.SYSFLOW_LIBSCAP || undefined)
  const source = explicit ? '--libscap' : wanted ? 'SYSFLOW_LIBSCAP' : 'system'
  if (wanted !== undefined && !fs.existsSync(wanted)) throw new LibscapUnavailableError(`libscap not found at ${wanted} (from ${source}): ${INSTALL_HINT}`)
  if (loaded !== undefined) {
    if (wanted === undefined || wanted === loaded) return loaded
    throw new LibscapUnavailableError(`libscap is already loaded from ${loaded}; cannot switch to ${wanted} in the same process`)
  }
  const path = wanted ?? findSystemLibscap()
  if (path === undefined) throw new LibscapUnavailableError(`libscap not found: ${INSTALL_HINT}`)
  try {
    openLibraries(path)
  } catch (e) {
    throw new LibscapUnavailableError(`cannot load libscap from ${path}: ${(e as Error).message}; ${INSTALL_HINT}`)
  }
  let table: Buffer
  try {
    table = createExternalBuffer(scap_get_event_info_table(), PPM_EVENT_MAX * EVENT_INFO_SIZE)
  } catch (e) {
    throw new LibscapUnavailableError(`${path} is not a usable libscap (${(e as Error).message}); ${INSTALL_HINT}`)
  }
  // Entry 0 is "syscall" (GENERIC_E), entry 1 "syscall" (GENERIC_X), 2/3 "open": a cheap check of the packed layout.
  const name = (i: number) => table.toString('latin1', i * EVENT_INFO_SIZE, i * EVENT_INFO_SIZE + 32).replace(/\0.*$/s, '')
  if (name(0) !== 'syscall' || name(2) !== 'open' || name(3) !== 'open' || name(PPM_EVENT_MAX - 1) === '') {
    throw new LibscapUnavailableError(`${path} has an event table this sysflow does not understand (expected the Debian 0.1.1dev layout: ${PPM_EVENT_MAX} packed entries of ${EVENT_INFO_SIZE} bytes)`)
  }
  loaded = path
  return path
}
