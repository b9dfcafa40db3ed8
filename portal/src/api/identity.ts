import type { components, paths } from './generated/identity'
import { serviceClient } from './http'
import { toApiError, unwrap } from './problem'

/** The identity service's API, typed by its OpenAPI document (src/api/generated/identity.ts). */
export const identityApi = serviceClient<paths>()
export type IdentitySchemas = components['schemas']

export interface Grant {
  role: import('@/router/meta').Role
  /** The org's path of codes from the city down, e.g. `/640000/640122/64012201`; its last code is the org. */
  org_path: string
}
export interface Me {
  id: string
  username: string | null
  display_name: string | null
  org_code: string | null
  grants: Grant[]
}
export interface SsoProvider {
  id: string
  name: string
  protocol: string
  login_url: string
}

/** The signed-in person, or null without a session (401). */
export async function fetchMe(): Promise<Me | null> {
  const result = await identityApi.GET('/api/me')
  if (result.response.status === 401) return null
  return unwrap(result) as Me
}

/**
 * Sign in with a local account: the browser endpoint answers 204 and sets the HttpOnly session cookie, exactly as
 * SSO does; the password never leaves this call and no token is ever readable here. Throws ApiError (401 bad
 * password, 423/429 lockout or rate limit) whose problem carries `detail` and `detail_zh`.
 */
export async function signIn(username: string, password: string): Promise<void> {
  const response = await fetch('/api/auth/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
    body: JSON.stringify({ username, password }),
  })
  if (!response.ok) throw toApiError(response, await response.json().catch(() => null))
}

export async function ssoProviders(): Promise<SsoProvider[]> {
  const response = await fetch('/sso/providers', { credentials: 'same-origin' })
  if (!response.ok) throw toApiError(response, await response.json().catch(() => null))
  return ((await response.json()) as { items: SsoProvider[] }).items
}

/** End the session; the upstream's logout page when the session came from SSO, to be followed. */
export async function signOut(): Promise<string | null> {
  const response = await fetch('/sso/logout', { method: 'POST', credentials: 'same-origin' })
  if (!response.ok) return null
  const body = (await response.json().catch(() => ({}))) as { upstream_logout_url?: string | null }
  return body.upstream_logout_url ?? null
}
