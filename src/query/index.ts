// The query layer: a DuckDB session over SysFlow traces loaded as Arrow batches, and result rendering.
export {QuerySession, baseConfig, type SessionOptions} from './session.js'
export {loadTraces, type LoadOptions, type LoadProgress, type LoadResult} from './load.js'
export {runQuery, copyOptions, SCHEMA_SQL, type QueryOptions, type QueryResult} from './run.js'
export {renderResult, resultSource, boxTable, typeLabel, valueJson, valueText, timestampNs, OUTPUT_FORMATS, type OutputFormat, type RenderOptions, type TextSink, type ResultSource} from './render.js'
export {QueryError, SqlError, sqlError} from './errors.js'
export {exportParquet, exportDuckDb, loadJoined, type ParquetExportOptions, type PartitionKey} from './export.js'
export {duckdbType, eventsViewSql, entityViewsSql, tableDdl, DERIVABLE, USER_VIEWS} from './ddl.js'
export {splitStatements} from './sql.js'
