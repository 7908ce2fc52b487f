// oclif's command_not_found hook: `sysflow prnt` is a usage error that names the closest commands.
import {Hook} from '@oclif/core'
import {closestNames} from '../format/suggest.js'
import {printable} from '../format/avro/container.js'
import {UsageError} from './report.js'

const hook: Hook<'command_not_found'> = async function (opts) {
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id)
  // With topicSeparator ' ' oclif joins the arguments into the id (`prnt:trace.sf`): the first word is the command.
  const id = opts.id.split(':')[0]
  const near = closestNames(id, ids)
  const hint = near.length > 0 ? `; did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : `; the commands are ${ids.sort().join(', ')}`
  throw new UsageError(`'${printable(id)}' is not a sysflow command${hint} (sysflow help lists them)`)
}

export default hook
