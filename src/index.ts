// The sysflow package: LibSysFlow's consumer API (SysFlowDriver, records, writer, attr) and the format library
// (typed records, reader, writer, filters, flags). Everything not exported here is internal and may change.
export {SysFlowDriver, records, type SysFlowCallback, type SysFlowConfig, type RecordsOptions} from './lib/driver.js'
export {SysFlowStats, type SysFlowInput, type SourceOptions} from './lib/source.js'
export {writer, SysFlowWriter, type SysFlowWriterOptions, type SysFlowWriterResult} from './lib/writer.js'
export {socketWriter, SysFlowSocketWriter, type SysFlowSocketOptions, type SysFlowSocketResult} from './lib/socket.js'
export {attr, printAttr} from './lib/attr.js'
export {Kind} from './lib/kind.js'
export {CaptureUnavailableError} from './capture/preflight.js'
export {CaptureInputError, ScapFormatError, type CollectionMode} from './capture/index.js'

export {
  KIND_ABBREV, KIND_FULLNAME, isEvent,
  type KindAbbrev, type OID, type FOID, type SFObjectState, type SFHeader, type Container, type Process, type File,
  type ProcessEvent, type NetworkFlow, type FileFlow, type FileEvent, type NetworkEvent, type ProcessFlow, type Pod,
  type Port, type Service, type K8sEvent, type EntityRecord, type EventRecord, type SysFlowRecord, type ProcessRecord,
} from './format/records.js'
export {TraceError, NotAvroError, EmptyInputError, TruncatedInputError, CorruptBlockError, TraceSchemaError, InputPathError, type ReadWarning} from './format/errors.js'
export {type Joined as JoinedRecord} from './format/join.js'
export {SCHEMA_VERSIONS, type SchemaVersion} from './format/schema.js'
export {readTrace, readTraces, fileInput, bufferInput, streamInput, ReadStats, type TraceInput, type TraceBatch, type ReadOptions} from './format/reader.js'
export {TraceWriter, RecordEncoder, fileSink, bufferSink, RecordEncodeError, type ByteSink, type WriterOptions} from './format/writer.js'
export {ATTRIBUTES, findAttribute, type Attribute, type AttrType, type AttrValue, type PrintValue} from './format/attributes.js'
export {OpFlag, OpenFlag, OPFLAG_NAMES, opFlagNames, opFlagsDisplay, openFlagNames, isOpenRead, isOpenWrite, ipv4, fileTypeChar} from './format/flags.js'
export {isoNanos, parseTime} from './format/time.js'
export {compileFilter, parseFilter, parseRules, RuleSet, FilterSyntaxError, RulesError, type FilterOptions} from './format/filter/index.js'
