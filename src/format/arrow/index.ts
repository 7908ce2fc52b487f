// Arrow views of the joined records: the wide `events` record batches (Arrow IPC output) and the narrow batches
// the DuckDB loader ingests. Column names and types come from the attribute catalogue.
export {EVENT_COLUMNS, eventsSchema, columnName, arrowType, arrowField, ARROW_JSON_METADATA, type EventColumn, type ColumnType} from './columns.js'
export {eventsRecordBatch} from './wide.js'
export {
  NarrowBuilder, narrowPlan, jsonText, StringIds, ENTITY_TABLES, ENTITY_VIEWS, FACT_KEYS, RECORD_FIELDS, FACT_ROWS,
  type NarrowBatch, type NarrowTable, type NarrowColumn, type NarrowPlan, type Storage,
} from './narrow.js'
export {makeBuffer, kindType, type BufferKind, type ColumnBuffer} from './buffers.js'
export {toWire, fromWire, type WireBatch, type WireData} from './wire.js'
