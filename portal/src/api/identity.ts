import type { components, paths } from './generated/identity'
import { serviceClient } from './http'
import type { Role } from '@/router/meta'
import { toApiError, unwrap } from './problem'

/** The identity service's API, typed by its OpenAPI document (src/api/generated/identity.ts). */
export const identityApi = serviceClient<paths>()
export type IdentitySchemas = components['schemas']

/** A grant as /api/me gives it: a role at an org (org_code null and org_path `/` for a platform-wide one). */
export type Grant = Omit<IdentitySchemas['MeGrant'], 'role'> & { role: Role }
export type Me = Omit<IdentitySchemas['Me'], 'grants'> & { grants: Grant[] }
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
  const me = unwrap(result)
  return { ...me, grants: (me.grants ?? []) as Grant[] }
}

/**
 * Sign in with a local account: the browser endpoint answers 204 and sets the HttpOnly session cookie, exactly as
 * SSO does; the password never leaves this call and no token is ever readable here. Throws ApiError (401 bad
 * password, 423/429 lockout or rate limit) whose problem carries `detail` and `detail_zh`.
 */
export async function signIn(username: string, password: string): Promise<void> {
  const result = await identityApi.POST('/api/auth/session', { body: { username, password } })
  if (!result.response.ok) throw toApiError(result.response, result.error ?? (await result.response.json().catch(() => null)))
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
