// Reads a Parquet file with hyparquet (an independent reader: pure JavaScript, no code shared with
// Parquet.Net) and prints one JSON document: the file's key/value metadata, its schema, row group
// sizes and every row. hyparquet decodes a GeoParquet "geo" column from WKB into GeoJSON itself;
// timestamps are printed as ISO strings with their microseconds, so nothing is rounded on the way.
//
//   node tests/tools/read-parquet.mjs <file.parquet> [column ...]
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'

const [path, ...columns] = process.argv.slice(2)
if (!path) {
  console.error('usage: node read-parquet.mjs <file.parquet> [column ...]')
  process.exit(2)
}

const micros = value => {
  const us = BigInt(value)
  const ms = us / 1000n
  const iso = new Date(Number(ms)).toISOString() // yyyy-mm-ddThh:mm:ss.mmmZ
  const rest = (us % 1000n + 1000n) % 1000n
  return iso.slice(0, 23) + rest.toString().padStart(3, '0') + 'Z'
}
const parsers = { timestampFromMicroseconds: micros }

const file = await asyncBufferFromFile(path)
const metadata = await parquetMetadataAsync(file, { parsers })
const rows = await parquetReadObjects({ file, metadata, parsers, columns: columns.length ? columns : undefined })

const plain = (key, value) => {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  return value
}
console.log(JSON.stringify({
  metadata: Object.fromEntries((metadata.key_value_metadata ?? []).map(({ key, value }) => [key, value])),
  created_by: metadata.created_by,
  num_rows: metadata.num_rows,
  row_groups: metadata.row_groups.map(g => g.num_rows),
  schema: metadata.schema.map(s => ({ name: s.name, type: s.type, repetition: s.repetition_type, logical: s.logical_type })),
  rows,
}, plain))
