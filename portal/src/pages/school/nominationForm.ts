import { isPresent, prefilledValue, type FieldSpec, type FormValues } from '@/components/policy/types'

/** The form without empty values, so that "not filled" compares equal however it is spelled. */
export function normalized(form: FormValues): FormValues {
  return Object.fromEntries(Object.entries(form).filter(([, v]) => isPresent(v)))
}

/**
 * What a draft save sends: each field whose value differs from the stored form (null clears it), leaving out the
 * prefilled ones, which the service keeps from the directory.
 */
export function changedFields(
  fields: FieldSpec[],
  stored: FormValues,
  edited: FormValues,
  candidate: Record<string, unknown>,
  schoolName: string,
): FormValues {
  const before = normalized(stored)
  const after = normalized(edited)
  const changes: FormValues = {}
  for (const spec of fields) {
    if (prefilledValue(spec, candidate, schoolName) !== undefined) continue
    if (JSON.stringify(before[spec.name]) !== JSON.stringify(after[spec.name])) changes[spec.name] = after[spec.name] ?? null
  }
  return changes
}

/** Which wizard step an error path belongs to (0 candidate, 1 form, 2 photo, 3 attestation and submit). */
export function stepOfError(path: string, fields: FieldSpec[]): number {
  if (path === 'candidate_user_id') return 0
  if (path === 'photo' || path.startsWith('evidence.')) return 2
  if (fields.some((f) => path === f.name || path.startsWith(`${f.name}.`))) return 1
  return 3
}

/** Human size: 2097152 → "2 MB". */
export function formatBytes(bytes: number): string {
  return bytes >= 1048576 ? `${+(bytes / 1048576).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`
}
