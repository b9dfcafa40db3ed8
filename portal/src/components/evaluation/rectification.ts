import type { ApprovalsSchemas } from '@/api/approvals'

type Rectification = ApprovalsSchemas['Rectification']

/** The calendar day in the reader's time zone, as the API writes dates (YYYY-MM-DD). */
function today(): string {
  const now = new Date()
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`
}

/**
 * 限期整改 past its date with no outcome: flagged by the service (`overdue_at`, the day's sweep), or already past the
 * due day before the sweep ran, so the page never shows an overdue one as on time.
 */
export function isOverdue(r: Rectification): boolean {
  if (r.status !== 'ordered') return false
  return !!r.overdue_at || (!!r.due_on && r.due_on < today())
}
