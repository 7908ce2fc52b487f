// The SysFlow policy condition language as a compiled predicate over joined records (docs/filters.md).
//
//   const keep = compileFilter('sf.type = NF and sf.net.dport in (80, 443)')
//   const rules = parseRules(fs.readFileSync('policy.yaml', 'utf8'), 'policy.yaml')
//   const shells = compileFilter('spawned_shell and not sf.proc.aname pmatch (trusted)', {rules})
//
// Errors are FilterSyntaxError (with the expression and a 0-based position; caretLine renders them) and, for
// rules files, RulesError (a FilterSyntaxError that also names the file and line).
import {Joined} from '../join.js'
import {compileNode, Predicate} from './compile.js'
import {FilterNode, parseCondition, ParseContext} from './parser.js'
import {RuleSet} from './rules.js'

export {FilterSyntaxError, RulesError, caretLine} from './errors.js'
export {parseRules, RuleSet, type ListDef, type ListItem, type MacroDef, type RuleDef} from './rules.js'
export {filterAttribute, type FilterNode, type Operand, type CmpOp} from './parser.js'
export {parseInt64, type Predicate} from './compile.js'

export interface FilterOptions {
  /** Lists and macros the expression may use. */
  rules?: RuleSet
}

function context(rules: RuleSet | undefined): ParseContext {
  if (!rules) return {}
  return {
    macro: (name) => rules.macro(name),
    list: (name) => rules.list(name),
    macroNames: () => rules.macros.keys(),
  }
}

/** Parse a condition into its tree (macros expanded, attributes resolved). Throws FilterSyntaxError. */
export function parseFilter(expr: string, opts: FilterOptions = {}): FilterNode {
  return parseCondition(expr, context(opts.rules))
}

/** Compile a condition into a predicate over joined records. Throws FilterSyntaxError. */
export function compileFilter(expr: string, opts: FilterOptions = {}): (j: Joined) => boolean {
  return compileNode(parseFilter(expr, opts)) as Predicate
}
