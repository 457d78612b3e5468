import type { GbnfJsonSchema } from 'node-llama-cpp'

type Json = Record<string, unknown>

const KEEP = ['description', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const

/**
 * A tool's JSON schema (from zod, or an external MCP server) as the subset node-llama-cpp
 * turns into a grammar. Its grammar requires every property, so an optional one becomes
 * "this or null" and {@link dropNulls} removes the nulls before the call. What the subset
 * cannot say (a pattern, an `allOf`) is left out: the tool still checks its arguments.
 */
export function toGbnfSchema (schema: Json): GbnfJsonSchema {
  const out: Json = {}
  for (const key of KEEP) if (schema[key] !== undefined) out[key] = schema[key]
  if (Array.isArray(schema.enum)) return { ...out, enum: schema.enum } as GbnfJsonSchema
  if (schema.const !== undefined) return { ...out, const: schema.const } as GbnfJsonSchema
  const union = (schema.anyOf ?? schema.oneOf) as Json[] | undefined
  if (Array.isArray(union)) return { ...out, oneOf: union.map(toGbnfSchema) } as GbnfJsonSchema
  const type = schema.type
  if (type === 'object' || (type === undefined && schema.properties !== undefined)) {
    const properties = (schema.properties ?? {}) as Record<string, Json>
    const required = new Set((schema.required ?? []) as string[])
    return {
      ...out,
      type: 'object',
      properties: Object.fromEntries(Object.entries(properties).map(([name, p]) => {
        const converted = toGbnfSchema(p)
        return [name, required.has(name) ? converted : { oneOf: [converted, { type: 'null' }] }]
      }))
    } as GbnfJsonSchema
  }
  if (type === 'array') return { ...out, type: 'array', items: toGbnfSchema((schema.items ?? {}) as Json) } as GbnfJsonSchema
  if (typeof type === 'string' && ['string', 'number', 'integer', 'boolean', 'null'].includes(type)) return { ...out, type } as GbnfJsonSchema
  if (Array.isArray(type)) return { ...out, type: type.filter(t => t !== 'object' && t !== 'array') } as GbnfJsonSchema
  // No type: any scalar.
  return { ...out, type: ['string', 'number', 'boolean', 'null'] } as GbnfJsonSchema
}

/** Arguments without the nulls that stand for "left out" (see {@link toGbnfSchema}). */
export function dropNulls (args: unknown): Record<string, unknown> {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return {}
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null))
}
