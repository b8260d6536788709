#!/usr/bin/env node
// Validates STAC Items, Collections and Catalogs offline, as STAC validators do: against the core
// schema of the object's type and the schema of every extension it declares in stac_extensions,
// all read from tests/schemas (official files, vendored with their licences; see its README).
// Beyond the schemas it checks what they cannot:
//   - a field with an extension's prefix (sar:, sat:, proj:, eo:, raster:) is used only when that
//     extension is declared (the schemas accept undeclared fields);
//   - polygon exterior rings are counterclockwise and holes clockwise (RFC 7946 3.1.6);
//   - with -root: links and asset hrefs are relative and stay inside that folder (or are http(s)
//     URLs), and no string anywhere in the object is a file: URL or this machine's path of it.
//
//   node validate-stac.mjs [-root <folder>] <file.json>...
// Prints one JSON line {"validated": N, "items": N, "collections": N, "catalogs": N}; on any
// failure prints every problem and exits 1. An extension with no vendored schema is a failure.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, relative, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const here = dirname(fileURLToPath(import.meta.url));
const schemaRoot = resolve(here, '..', 'schemas');

function walk(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith('.json') ? [path] : [];
  });
}

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
// STAC's schemas name the "iri" and "iri-reference" formats, which ajv-formats does not define;
// href values are checked below (relative inside the corpus) instead.
ajv.addFormat('iri', true);
ajv.addFormat('iri-reference', true);
// projection v1.0.0 refers to PROJJSON's schema for proj:projjson, which nothing here writes; a
// stand-in that accepts nothing makes any proj:projjson fail rather than pass unchecked.
ajv.addSchema({ $id: 'https://proj.org/schemas/v0.2/projjson.schema.json', not: {} });
const byId = new Map();
for (const path of walk(schemaRoot)) {
  const schema = JSON.parse(readFileSync(path, 'utf8'));
  if (!schema.$id) continue;
  ajv.addSchema(schema);
  byId.set(schema.$id.replace(/#$/, ''), schema.$id);
}

const core = {
  Feature: 'https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/item.json',
  Collection: 'https://schemas.stacspec.org/v1.0.0/collection-spec/json-schema/collection.json',
  Catalog: 'https://schemas.stacspec.org/v1.0.0/catalog-spec/json-schema/catalog.json',
};
const prefixes = { 'sar:': 'sar', 'sat:': 'sat', 'proj:': 'projection', 'eo:': 'eo', 'raster:': 'raster' };

const args = process.argv.slice(2);
let root = null;
if (args[0] === '-root') {
  root = resolve(args[1]);
  args.splice(0, 2);
}

const problems = [];
const counts = { validated: 0, items: 0, collections: 0, catalogs: 0 };

function ringArea(ring) {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) sum += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return sum / 2;
}

function checkRings(file, geometry) {
  if (!geometry) return;
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  for (const rings of polygons) {
    rings.forEach((ring, k) => {
      const area = ringArea(ring);
      if (k === 0 && area <= 0) problems.push(`${file}: the exterior ring is clockwise (RFC 7946: counterclockwise)`);
      if (k > 0 && area >= 0) problems.push(`${file}: a hole is counterclockwise (RFC 7946: clockwise)`);
    });
  }
}

function usedPrefixes(object) {
  const used = new Set();
  const visit = (o) => {
    if (Array.isArray(o)) return o.forEach(visit);
    if (o && typeof o === 'object') {
      for (const [key, value] of Object.entries(o)) {
        for (const [prefix, extension] of Object.entries(prefixes)) if (key.startsWith(prefix)) used.add(extension);
        visit(value);
      }
    }
  };
  visit({ properties: object.properties, assets: object.assets, summaries: object.summaries, item_assets: object.item_assets });
  return used;
}

function checkHref(file, href, what) {
  if (!root || typeof href !== 'string') return;
  if (/^https?:/i.test(href)) return;
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || isAbsolute(href)) {
    if (href.startsWith('file:') || isAbsolute(href)) problems.push(`${file}: ${what} is an absolute local path (${href}): hrefs inside a corpus must be relative`);
    return;
  }
  const target = resolve(dirname(file), href);
  if (relative(root, target).startsWith('..')) problems.push(`${file}: ${what} (${href}) leaves the corpus`);
}

for (const file of args) {
  let object;
  try {
    object = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    problems.push(`${file}: not JSON: ${e.message}`);
    continue;
  }
  const schemaId = core[object.type];
  if (!schemaId) {
    problems.push(`${file}: type ${object.type} is not a STAC Item, Collection or Catalog`);
    continue;
  }
  const targets = [schemaId];
  const declared = new Set();
  for (const url of object.stac_extensions ?? []) {
    const id = byId.get(url.replace(/#$/, ''));
    if (!id) {
      problems.push(`${file}: declares ${url}, whose schema is not vendored in tests/schemas`);
      continue;
    }
    targets.push(id);
    declared.add(url.match(/stac-extensions\.github\.io\/([^/]+)\//)?.[1]);
  }
  for (const id of targets) {
    const validate = ajv.getSchema(id) ?? ajv.getSchema(id + '#');
    if (!validate(object)) {
      for (const e of validate.errors) problems.push(`${file}: ${id}: ${e.instancePath || '/'} ${e.message} ${e.params ? JSON.stringify(e.params) : ''}`);
    }
  }
  for (const extension of usedPrefixes(object)) {
    if (!declared.has(extension)) problems.push(`${file}: uses ${extension} fields without declaring the ${extension} extension`);
  }
  checkRings(file, object.geometry);
  if (root) {
    const text = JSON.stringify(object);
    if (text.includes('file:') || text.includes(root)) problems.push(`${file}: holds a local path or file: URL (a corpus must read the same wherever it is copied)`);
  }
  for (const link of object.links ?? []) {
    checkHref(file, link.href, `the ${link.rel} link`);
  }
  for (const [key, asset] of Object.entries(object.assets ?? {})) checkHref(file, asset.href, `asset ${key}`);
  counts.validated++;
  counts[object.type === 'Feature' ? 'items' : object.type === 'Collection' ? 'collections' : 'catalogs']++;
}

if (problems.length) {
  for (const p of problems) console.log('FAIL: ' + p);
  process.exit(1);
}
console.log(JSON.stringify(counts));
