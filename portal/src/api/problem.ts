import { i18n } from '@/i18n'

/** An RFC 9457 problem as the services write it (shared/errors.py), with the optional Chinese detail. */
export interface Problem {
  type?: string
  title?: string
  status?: number
  detail?: string
  detail_zh?: string
  errors?: { field: string; in?: string; messages: string[] }[]
  request_id?: string
  [extension: string]: unknown
}

/** A failed call: its status, the problem body, and per-field messages ready for Element Plus form items. */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem
  readonly fieldErrors: Record<string, string>

  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`)
    this.status = status
    this.problem = problem
    this.fieldErrors = {}
    for (const error of problem.errors ?? []) {
      // webargs reports body fields as `json.<name>` paths already flattened to `<name>`; keep the first message.
      const name = error.field.replace(/^(form|json)\./, '')
      this.fieldErrors[name] ??= error.messages.map(inReadersLanguage).join(' ')
    }
  }

  /** 412 (If-Match no longer current) or 409: someone else changed the record since it was read. */
  get stale(): boolean {
    return this.status === 412 || (this.status === 409 && /if-match|etag|revision|stale/i.test(this.message))
  }
}

/** The result of an openapi-fetch call, or an ApiError: pages write `const x = unwrap(await api.GET(...))`. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.error === undefined) return result.data as T
  throw toApiError(result.response, result.error)
}

export function toApiError(response: Response, body: unknown): ApiError {
  const problem: Problem = body && typeof body === 'object' ? (body as Problem) : { title: response.statusText }
  return new ApiError(response.status, problem)
}

/**
 * Services write some messages in both languages as `English / 中文` (the domain's refusals); this picks the reader's
 * half. A message without the separator is returned as it is.
 */
export function inReadersLanguage(message: string): string {
  const at = message.lastIndexOf(' / ')
  if (at < 0) return message
  return i18n.global.locale.value === 'en' ? message.slice(0, at) : message.slice(at + 3)
}

/** What to tell the person about an error, in their language. */
export function errorMessage(error: unknown): string {
  const t = i18n.global.t
  if (error instanceof ApiError) {
    if (error.stale) return t('common.errors.stale')
    const en = i18n.global.locale.value === 'en'
    const bilingual = error.problem.detail?.includes(' / ') ? inReadersLanguage(error.problem.detail) : undefined
    const detail = en ? bilingual || error.problem.detail : error.problem.detail_zh || bilingual
    if (detail) return detail
    const byStatus: Record<number, string> = {
      401: 'common.errors.unauthorized',
      403: 'common.errors.forbidden',
      404: 'common.errors.notFound',
      413: 'common.errors.tooLarge',
      422: 'common.errors.invalid',
      429: 'common.errors.tooMany',
    }
    if (byStatus[error.status]) return t(byStatus[error.status])
    if (error.status >= 500) return t('common.errors.server')
    return error.problem.detail || error.message
  }
  if (error instanceof TypeError) return t('common.errors.network')
  return t('common.errors.unknown')
}
