// Validates Kubernetes manifests offline against the Kubernetes API's OpenAPI schemas, as the
// kubernetes-models package (npm) compiles them: every document of every YAML file given, by its
// apiVersion and kind. Prints one JSON document: per document, its kind, name and the schema's
// errors (empty when valid). Exit 0 when every document is valid, 1 otherwise, 2 on bad input.
//
//   node tests/tools/validate-k8s.mjs deploy/kubernetes/*.yaml
import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node validate-k8s.mjs <manifest.yaml> ...')
  process.exit(2)
}

// kubernetes-models lays its classes out as <group>/<version>/<Kind>.js; the core group is "v1".
async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion]
  const path = group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`
  try {
    return (await import(path))[kind]
  } catch {
    return null
  }
}

const results = []
let valid = true
for (const file of files) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'))
  for (const doc of docs) {
    if (doc.errors.length) {
      results.push({ file, errors: doc.errors.map(e => e.message) })
      valid = false
      continue
    }
    const object = doc.toJS()
    if (!object) continue
    const Model = await modelFor(object.apiVersion ?? '', object.kind ?? '')
    const entry = { file, apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name, object, errors: [] }
    if (!Model) {
      entry.errors.push(`no schema for ${object.apiVersion} ${object.kind}`)
    } else {
      try {
        new Model(object).validate()
      } catch (e) {
        entry.errors.push(...(e.errors ?? [e]).map(x => x.instancePath !== undefined ? `${x.instancePath} ${x.message}` : String(x.message ?? x)))
      }
    }
    if (entry.errors.length) valid = false
    results.push(entry)
  }
}
console.log(JSON.stringify(results))
process.exit(valid ? 0 : 1)
