import createClient, { type Middleware } from 'openapi-fetch'
import { currentLocale } from '@/i18n'

// Every client talks to the gateway on the page's own origin. The session is the HttpOnly `cio_session` cookie the
// gateway turns into a bearer token: page scripts never see or send a token.
let onSessionEnded: (() => void) | null = null

/** The shell registers how to react when a call answers 401 (the session ended): back to the sign-in page. */
export function setSessionEndedHandler(handler: () => void): void {
  onSessionEnded = handler
}

const common: Middleware = {
  onRequest({ request }) {
    request.headers.set('Accept-Language', currentLocale())
    return request
  },
  onResponse({ response, schemaPath }) {
    if (response.status === 401 && schemaPath !== '/api/me' && onSessionEnded) onSessionEnded()
    return response
  },
}

/** An openapi-fetch client for one service's generated `paths`. */
export function serviceClient<Paths extends object>() {
  const client = createClient<Paths>({ baseUrl: '/', credentials: 'same-origin' })
  client.use(common)
  return client
}
