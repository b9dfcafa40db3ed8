import { currentLocale } from '@/i18n'
import { toApiError } from './problem'

/**
 * Fetch a file the API streams (CSV, XLSX) with the session cookie and hand it to the browser as a download named
 * by the answer's Content-Disposition. An error answer (422 naming a field, 404) is thrown as an ApiError, so the
 * page shows it instead of navigating to a problem document.
 */
export async function downloadFile(url: string, fallbackName: string): Promise<void> {
  const response = await fetch(url, { credentials: 'same-origin', headers: { 'Accept-Language': currentLocale() } })
  if (!response.ok) throw toApiError(response, await response.json().catch(() => null))
  const disposition = response.headers.get('Content-Disposition') ?? ''
  // RFC 6266: `filename*=UTF-8''…` (percent-encoded, for names in Chinese) wins over the plain `filename=`.
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1]
  const name = encoded ? decodeURIComponent(encoded) : (/filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName)
  const href = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = href
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  window.setTimeout(() => URL.revokeObjectURL(href), 10_000)
}
