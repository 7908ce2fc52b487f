// fileOnly (the collector's FILE_ONLY, LibSysFlow's default): FileFlows only for regular files, as
// fileflowprocessor.cpp's `isFileOnly() && !fdinfo->is_file()` check; off keeps directories and pipes too.
import test from 'ava'
import {Kind, SysFlowRecord} from '../src/format/records.js'
import {feeder, haveLibscap} from './helpers/scap-events.js'

const O_WRONLY = 2
const O_DIRECTORY = 1 << 10

async function run(fileOnly: boolean | undefined): Promise<string[]> {
  const {c, ev} = await feeder({fileOnly})
  const exe = '/bin/app'
  ev('execve', true, 1, 100, {res: 0, exe, args: Buffer.from(`${exe}\0`), tid: 100, pid: 100, ptid: 1, cwd: '/', comm: 'app', uid: 0, gid: 0})
  ev('open', false, 10, 100, {name: '/tmp/file', flags: O_WRONLY})
  ev('open', true, 11, 100, {fd: 3, name: '/tmp/file', flags: O_WRONLY})
  ev('open', false, 12, 100, {name: '/tmp/dir', flags: O_DIRECTORY})
  ev('open', true, 13, 100, {fd: 4, name: '/tmp/dir', flags: O_DIRECTORY})
  ev('pipe', false, 14, 100, {})
  ev('pipe', true, 15, 100, {res: 0, fd1: 5, fd2: 6, ino: 77})
  for (const [fd, dt] of [[3, 20], [6, 22]]) {
    ev('write', false, dt, 100, {fd, size: 1})
    ev('write', true, dt + 1, 100, {res: 1})
  }
  c.finish()
  const files = new Map<string, string>()
  for (const r of c.out as SysFlowRecord[]) if (r.kind === Kind.File) files.set(r.oid, r.path ?? '')
  return (c.out as SysFlowRecord[]).filter((r) => r.kind === Kind.FileFlow).map((r) => `${r.fd} ${files.get(r.fileOID) ?? '?'}`)
}

if (!haveLibscap) test.skip('fileOnly (needs libscap for its event table)', () => {})
else {
  test('fileOnly: only the regular file keeps a FileFlow; off (capture\'s default), the directory and the pipe too', async (t) => {
    t.deepEqual(await run(true), ['3 /tmp/file'])
    const all = await run(undefined)
    t.deepEqual(all.sort(), (await run(false)).sort())
    t.is(all.length, 3)
    t.true(all.includes('3 /tmp/file'))
    t.true(all.includes('4 /tmp/dir'))
  })
}
