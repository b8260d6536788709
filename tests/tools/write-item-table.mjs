// Writes STAC Items as a STAC-GeoParquet item table with hyparquet-writer (an independent writer:
// pure JavaScript, no code shared with Parquet.Net), in stac-geoparquet's layout: one row per
// Item; type, stac_version, id, collection; geometry as WKB (hyparquet-writer's own GeoJSON
// encoder) with GeoParquet 1.1 "geo" file metadata; bbox as a struct xmin/ymin/xmax/ymax (or, with
// --bbox-list, the older 4-element list); links as a list of structs; every property a top-level
// column, its type inferred from the values as pyarrow infers it (strings, int64, double,
// booleans, lists, structs; datetime, start_datetime, end_datetime, created and updated as
// microsecond UTC timestamps); assets as a struct of structs, one per asset key of any Item.
//
//   node tests/tools/write-item-table.mjs <items.json> <out.parquet> [--bbox-list] [--json a,b] [--lists-as-json] [--row-group-size N]
//
// items.json holds a JSON array of Items (or one Item per line). --json writes the named fields
// (e.g. raster:bands,eo:bands) as JSON text columns, as older exports do.
import fs from 'fs'
import { parquetWriteFile, geojsonToWkb } from 'hyparquet-writer'

const args = process.argv.slice(2)
const positional = []
let bboxList = false
let jsonFields = new Set()
let rowGroupSize = 100000
// hyparquet-writer writes only data page v2, and Parquet.Net 6.1 cannot read repeated columns
// from v2 pages: --lists-as-json writes every list as JSON text (as older exports do) instead.
let listsAsJson = false
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--bbox-list') bboxList = true
  else if (args[i] === '--json') jsonFields = new Set(args[++i].split(','))
  else if (args[i] === '--row-group-size') rowGroupSize = Number(args[++i])
  else if (args[i] === '--lists-as-json') listsAsJson = true
  else positional.push(args[i])
}
const [input, output] = positional
if (!input || !output) {
  console.error('usage: node write-item-table.mjs <items.json> <out.parquet> [--bbox-list] [--json a,b] [--row-group-size N]')
  process.exit(2)
}

const text = fs.readFileSync(input, 'utf8').trim()
const items = text.startsWith('[') ? JSON.parse(text) : text.split('\n').filter(l => l.trim()).map(l => JSON.parse(l))
const timestamps = new Set(['datetime', 'start_datetime', 'end_datetime', 'created', 'updated'])

// Microseconds since the epoch of an RFC 3339 time, without going through Date's milliseconds.
function micros(value) {
  const m = /^(.*?:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(value)
  if (!m) throw new Error(`not an RFC 3339 time: ${value}`)
  const whole = BigInt(Date.parse(m[1] + m[3])) * 1000n
  const fraction = BigInt(((m[2] ?? '.').slice(1) + '000000').slice(0, 6))
  return whole + fraction
}

// The schema of a field from all its values (pyarrow's inference, roughly): null when all are null.
function infer(name, values, forceJson) {
  const present = values.filter(v => v !== null && v !== undefined)
  if (present.length === 0) return null
  if (forceJson || present.some(v => typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)) {
    return { kind: 'json', element: { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' } }
  }
  if (timestamps.has(name) && present.every(v => typeof v === 'string')) {
    return { kind: 'timestamp', element: { name, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: 'OPTIONAL' } }
  }
  if (present.every(v => typeof v === 'string')) return { kind: 'string', element: { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } }
  if (present.every(v => typeof v === 'boolean')) return { kind: 'bool', element: { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' } }
  if (present.every(v => typeof v === 'number')) {
    return present.every(Number.isInteger)
      ? { kind: 'int', element: { name, type: 'INT64', repetition_type: 'OPTIONAL' } }
      : { kind: 'double', element: { name, type: 'DOUBLE', repetition_type: 'OPTIONAL' } }
  }
  if (present.every(Array.isArray)) {
    if (listsAsJson) return { kind: 'json', element: { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' } }
    const item = infer('element', present.flat(), false)
    if (!item) return { kind: 'json', element: { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' } }
    return { kind: 'list', item, element: { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 } }
  }
  if (present.every(v => typeof v === 'object' && !Array.isArray(v))) {
    const keys = [...new Set(present.flatMap(Object.keys))].sort()
    const children = keys.map(k => [k, infer(k, present.map(v => v[k]), jsonFields.has(k))]).filter(([, s]) => s)
    if (children.length === 0) return null
    return { kind: 'struct', children, element: { name, repetition_type: 'OPTIONAL', num_children: children.length } }
  }
  // Mixed types: JSON text, as a careful exporter would.
  return { kind: 'json', element: { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' } }
}

function flatten(node, out) {
  if (node.kind === 'list') {
    out.push(node.element, { name: 'list', repetition_type: 'REPEATED', num_children: 1 })
    flatten(node.item, out)
  } else {
    out.push(node.element)
    if (node.kind === 'struct') for (const [, child] of node.children) flatten(child, out)
  }
  return out
}

function convert(node, value) {
  if (value === null || value === undefined) return null
  switch (node.kind) {
    case 'json': return value // hyparquet-writer encodes JSON columns itself
    case 'timestamp': return micros(value)
    case 'int': return BigInt(value)
    case 'list': return value.map(v => convert(node.item, v))
    case 'struct': return Object.fromEntries(node.children.map(([k, child]) => [k, convert(child, value[k])]))
    default: return value
  }
}

function required(name, type, extra = {}) {
  return { kind: type === 'BYTE_ARRAY' && extra.converted_type !== 'UTF8' ? 'binary' : 'string', element: { name, type, repetition_type: 'REQUIRED', ...extra } }
}

const columns = []
const add = (node, data) => { if (node) columns.push({ node, data }) }
add(required('type', 'BYTE_ARRAY', { converted_type: 'UTF8' }), items.map(i => i.type ?? 'Feature'))
add(required('stac_version', 'BYTE_ARRAY', { converted_type: 'UTF8' }), items.map(i => i.stac_version ?? '1.0.0'))
add(infer('stac_extensions', items.map(i => i.stac_extensions ?? []), false), items.map(i => i.stac_extensions ?? []))
add(required('id', 'BYTE_ARRAY', { converted_type: 'UTF8' }), items.map(i => i.id))
add(infer('collection', items.map(i => i.collection), false), items.map(i => i.collection))
add({ kind: 'binary', element: { name: 'geometry', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' } }, items.map(i => geojsonToWkb(i.geometry)))
const bboxes = items.map(i => i.bbox ? [i.bbox[0], i.bbox[1], i.bbox[i.bbox.length / 2], i.bbox[i.bbox.length / 2 + 1]] : null)
if (bboxList) add(infer('bbox', bboxes, false), bboxes)
else add(infer('bbox', bboxes.map(b => b && { xmin: b[0], ymin: b[1], xmax: b[2], ymax: b[3] }), false), bboxes.map(b => b && { xmin: b[0], ymin: b[1], xmax: b[2], ymax: b[3] }))
add(infer('links', items.map(i => i.links ?? []), false), items.map(i => i.links ?? []))
add(infer('assets', items.map(i => i.assets ?? {}), false), items.map(i => i.assets ?? {}))
const propertyNames = [...new Set(items.flatMap(i => Object.keys(i.properties ?? {})))].sort()
for (const p of propertyNames) {
  const values = items.map(i => (i.properties ?? {})[p])
  add(infer(p, values, jsonFields.has(p)), values)
}

const schema = [{ name: 'root', num_children: columns.length }]
for (const c of columns) flatten(c.node, schema)
const columnData = columns.map(c => ({ name: c.node.element.name, data: c.data.map(v => convert(c.node, v)) }))

const extent = bboxes.filter(Boolean).reduce((e, b) => [Math.min(e[0], b[0]), Math.min(e[1], b[1]), Math.max(e[2], b[2]), Math.max(e[3], b[3])], [Infinity, Infinity, -Infinity, -Infinity])
const types = [...new Set(items.map(i => i.geometry.type))].sort()
const geo = {
  version: '1.1.0',
  primary_column: 'geometry',
  columns: {
    geometry: {
      encoding: 'WKB',
      geometry_types: types,
      ...(Number.isFinite(extent[0]) ? { bbox: extent } : {}),
      ...(bboxList ? {} : { covering: { bbox: { xmin: ['bbox', 'xmin'], ymin: ['bbox', 'ymin'], xmax: ['bbox', 'xmax'], ymax: ['bbox', 'ymax'] } } }),
    },
  },
}

parquetWriteFile({
  filename: output,
  columnData,
  schema,
  rowGroupSize,
  kvMetadata: [{ key: 'geo', value: JSON.stringify(geo) }],
  createdBy: 'hyparquet-writer (DeepSentinel tests/tools/write-item-table.mjs)',
})
console.log(JSON.stringify({ rows: items.length, columns: columns.map(c => c.node.element.name) }))
