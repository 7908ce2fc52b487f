// Running the real CLI on a pseudo-terminal of a given size, without tmux: python3's pty module (argv passed as
// is, no shell), else util-linux's `script`. Tests skip visibly when neither is there.
import {spawnSync} from 'node:child_process'
import path from 'node:path'

const RUN = path.resolve(process.cwd(), 'bin/run.js')

// Forks a child on a new pty whose window is COLS x ROWS, execs argv, copies everything it writes to our stdout.
const PY = `
import os, pty, sys, fcntl, termios, struct
cols, rows = int(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(sys.argv[3], sys.argv[3:])
out = bytearray()
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.exit(os.waitstatus_to_exitcode(status))
`

function has(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, {stdio: 'ignore'})
  return !r.error && r.status === 0
}

let tool: 'python3' | 'script' | undefined | null = null

/** Which way to get a pty here, if any. */
export function ptyTool(): 'python3' | 'script' | undefined {
  if (tool === null) tool = has('python3', ['-c', 'import pty, fcntl, termios']) ? 'python3' : has('script', ['--version']) ? 'script' : undefined
  return tool
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** `sysflow ARGS` on a COLS-wide terminal: its output as the terminal got it (CRLF turned back to LF). */
export function cliOnTerminal(args: readonly string[], cols: number, rows = 40): {status: number | null; output: string} {
  const argv = [process.execPath, RUN, ...args]
  const env = {...process.env, NO_COLOR: '1', COLUMNS: undefined, LINES: undefined}
  const r = ptyTool() === 'python3'
    ? spawnSync('python3', ['-c', PY, String(cols), String(rows), ...argv], {encoding: 'utf8', env, maxBuffer: 64 << 20, timeout: 60_000})
    : spawnSync('script', ['-qec', `stty cols ${cols} rows ${rows} && exec ${argv.map(quote).join(' ')}`, '/dev/null'], {encoding: 'utf8', env, maxBuffer: 64 << 20, timeout: 60_000})
  if (r.error) throw r.error
  return {status: r.status, output: r.stdout.replace(/\r\n/g, '\n')}
}
