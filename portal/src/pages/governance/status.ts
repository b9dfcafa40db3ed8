import { i18n } from '@/i18n'

/** A plan's status (governance's PlanStatus) as an Element Plus tag type: the colour follows where the plan stands. */
export function planStatusType(status?: string): 'primary' | 'success' | 'warning' | 'danger' | 'info' {
  switch (status) {
    case 'in_review':
      return 'primary'
    case 'approved':
    case 'completed':
      return 'success'
    case 'returned':
      return 'warning'
    case 'rejected':
      return 'danger'
    default:
      return 'info'
  }
}

export const PLAN_STATUSES = ['draft', 'in_review', 'returned', 'approved', 'rejected', 'completed'] as const

/** Yuan as the reader's locale writes money (the API sends the amount as a string with two decimals). */
export function yuan(amount: string | undefined, locale: string): string {
  const n = Number(amount ?? 0)
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'CNY', maximumFractionDigits: 2 }).format(n)
}

const SEMESTER_KEY = /^(\d{4})-(spring|autumn)$/

/**
 * A semester as people name it ("2025年春季学期", "Spring 2025"): the API keys it `YYYY-spring|autumn` (governance's
 * Semester, named by the year it starts in). A key of another shape is shown as it is rather than hidden.
 */
export function semesterLabel(key: string | undefined): string {
  const match = SEMESTER_KEY.exec(key ?? '')
  if (!match) return key ?? ''
  return i18n.global.t(`governance.committee.terms.${match[2]}`, { year: match[1] })
}
