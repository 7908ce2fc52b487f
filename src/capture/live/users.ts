// The user and group lists libscap attaches to a live capture (scap_create_userlist): every entry of
// <root>/etc/passwd and <root>/etc/group, in file order, as the .scap user list decodes to. The state engine
// names a Process's user and group from them (`<NA>` when absent).
import fs from 'node:fs'
import path from 'node:path'
import type {ScapGroup, ScapUser} from '../../native/scap.js'

export interface UserList {
  users: ScapUser[]
  groups: ScapGroup[]
}

/** Entry lines of an /etc/passwd-style file: blank lines, comments and NIS `+`/`-` entries are not entries
 * (glibc's fgetpwent/fgetgrent skip what they cannot parse). */
function entries(text: string, minFields: number): string[][] {
  const out: string[][] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue
    const f = line.split(':')
    if (f.length < minFields || f[0] === '') continue
    out.push(f)
  }
  return out
}

const ID = /^\d{1,10}$/

export function parsePasswd(text: string): ScapUser[] {
  const out: ScapUser[] = []
  for (const f of entries(text, 7)) {
    if (!ID.test(f[2]) || !ID.test(f[3])) continue
    out.push({uid: Number(f[2]) >>> 0, gid: Number(f[3]) >>> 0, name: f[0]})
  }
  return out
}

export function parseGroup(text: string): ScapGroup[] {
  const out: ScapGroup[] = []
  for (const f of entries(text, 4)) {
    if (!ID.test(f[2])) continue
    out.push({gid: Number(f[2]) >>> 0, name: f[0]})
  }
  return out
}

/** Users and groups of the filesystem rooted at `root` (the host's `/`, or a process's `/proc/<pid>/root` to see
 * a container's own names). A missing file gives an empty list, as libscap proceeds without one. */
export function readUsers(root = '/'): UserList {
  const read = (f: string): string => {
    try {
      return fs.readFileSync(path.join(root, 'etc', f), 'utf8')
    } catch {
      return ''
    }
  }
  return {users: parsePasswd(read('passwd')), groups: parseGroup(read('group'))}
}
