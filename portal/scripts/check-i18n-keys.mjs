// Fails when the zh-CN and English messages of an area do not have the same keys (run by `npm run lint`).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'

const root = new URL('../src/i18n/', import.meta.url).pathname
const locales = ['zh-CN', 'en']

function keysOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2020, true)
  const keys = []
  const walk = (node, prefix) => {
    for (const prop of node.properties) {
      const name = prop.name && (prop.name.text ?? prop.name.getText())
      const key = prefix ? `${prefix}.${name}` : name
      if (ts.isPropertyAssignment(prop) && ts.isObjectLiteralExpression(prop.initializer)) walk(prop.initializer, key)
      else keys.push(key)
    }
  }
  const visit = (node) => {
    if (ts.isExportAssignment(node)) {
      let expr = node.expression
      while (ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr) || ts.isParenthesizedExpression(expr)) expr = expr.expression
      if (ts.isObjectLiteralExpression(expr)) walk(expr, '')
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return new Set(keys)
}

let failed = false
const areas = new Set(locales.flatMap((l) => readdirSync(join(root, l)).filter((f) => f.endsWith('.ts'))))
for (const area of [...areas].sort()) {
  const sets = locales.map((l) => {
    try {
      return keysOf(join(root, l, area))
    } catch {
      return new Set()
    }
  })
  for (const [i, locale] of locales.entries()) {
    const other = sets[1 - i]
    const missing = [...other].filter((k) => !sets[i].has(k))
    if (missing.length) {
      failed = true
      console.error(`i18n: ${locale}/${area} lacks ${missing.join(', ')}`)
    }
  }
}
if (failed) process.exit(1)
console.log(`i18n: ${areas.size} areas, zh-CN and en have the same keys`)
