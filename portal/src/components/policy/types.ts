/** A form field of a policy document (shared/policy.schema.yaml `$defs.field`). */
export interface FieldSpec {
  name: string
  label_zh: string
  label_en: string
  type: 'string' | 'text' | 'integer' | 'date' | 'phone' | 'email' | 'boolean' | 'choice' | 'list'
  required: boolean
  required_when?: { field: string; in: unknown[] }
  max_length?: number
  min?: number
  max?: number
  max_items?: number
  personal?: boolean
  prefill?: string
  choices?: { value: string; label_zh: string; label_en?: string }[]
  items?: FieldSpec[]
}

/** The `form` part of a policy document. */
export interface FormSpec {
  title_zh: string
  print_note_zh?: string
  attestation_zh?: string
  photo: { required: boolean; max_bytes: number; content_types: string[] }
  /** 证明材料 uploaded with the form (minutes, a certificate's scan), needed when `required_when` holds. */
  evidence?: EvidenceSpec[]
  fields: FieldSpec[]
}

/** One kind of evidence the form takes (policy.schema.yaml `form.evidence`). */
export interface EvidenceSpec {
  kind: string
  label_zh: string
  label_en: string
  required_when?: { field: string; in: unknown[] }
}

export type FormValues = Record<string, unknown>

/** Whether a field must be filled, given the rest of the form (`required`, or its `required_when` holds). */
export function isRequired(spec: { required?: boolean; required_when?: FieldSpec['required_when'] }, form: FormValues): boolean {
  return !!spec.required || (!!spec.required_when && spec.required_when.in.includes(form[spec.required_when.field]))
}

export function isPresent(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)
}

/**
 * The value a prefilled field takes from the directory (`candidate.<key>`) or the school (`school.name`), when known:
 * the service refuses to change such a value, so the form shows it read-only and marked as prefilled.
 */
export function prefilledValue(spec: FieldSpec, candidate: Record<string, unknown>, schoolName: string): unknown {
  if (!spec.prefill) return undefined
  const [scope, key] = spec.prefill.split('.')
  const value = scope === 'school' ? schoolName : candidate[key]
  return isPresent(value) ? value : undefined
}
