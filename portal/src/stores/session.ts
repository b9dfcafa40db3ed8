import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { fetchMe, type Grant, type Me } from '@/api/identity'
import { notificationsApi } from '@/api/notifications'
import type { Role } from '@/router/meta'

const ACTING_KEY = 'cio.acting'

/** The last code of an org path: the org a grant is at. */
export function orgCodeOf(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? ''
}

/**
 * Who is signed in and which grant (role at an org) they act in. A person with several grants picks one; the choice
 * is remembered in localStorage (a role and an org path, never a token). The session itself is the HttpOnly cookie.
 */
export const useSessionStore = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const loaded = ref(false)
  const acting = ref<Grant | null>(null)
  const unread = ref(0)
  let loading: Promise<boolean> | null = null

  const grants = computed(() => me.value?.grants ?? [])
  const role = computed<Role | null>(() => acting.value?.role ?? null)
  const orgCode = computed(() => acting.value?.org_code ?? (acting.value ? orgCodeOf(acting.value.org_path) : (me.value?.org_code ?? '')))

  function remembered(list: Grant[]): Grant | null {
    try {
      const saved = JSON.parse(localStorage.getItem(ACTING_KEY) ?? 'null') as Grant | null
      return list.find((g) => saved && g.role === saved.role && g.org_path === saved.org_path) ?? null
    } catch {
      return null
    }
  }

  function act(grant: Grant): void {
    acting.value = grant
    localStorage.setItem(ACTING_KEY, JSON.stringify({ role: grant.role, org_path: grant.org_path }))
  }

  async function load(): Promise<boolean> {
    const person = await fetchMe()
    me.value = person
    loaded.value = true
    if (!person) {
      acting.value = null
      return false
    }
    acting.value = remembered(person.grants) ?? person.grants[0] ?? null
    void refreshUnread()
    return true
  }

  /** Loads the person once per page life; true when signed in. */
  function ensureLoaded(): Promise<boolean> {
    if (loaded.value) return Promise.resolve(me.value !== null)
    loading ??= load().finally(() => {
      loading = null
    })
    return loading
  }

  function canActAs(roles: readonly Role[]): boolean {
    return role.value !== null && roles.includes(role.value)
  }

  /** For a link to a page of another role (from the inbox): act in a grant that may see it, if the person has one. */
  function switchToGrantFor(roles: readonly Role[]): boolean {
    const grant = grants.value.find((g) => roles.includes(g.role))
    if (!grant) return false
    act(grant)
    return true
  }

  async function refreshUnread(): Promise<void> {
    const { data } = await notificationsApi.GET('/api/inbox', { params: { query: { limit: 1, unread: true } } })
    if (data) unread.value = data.unread_count ?? 0
  }

  /** The name of an org the person holds a grant at (the grant carries it), else its code. */
  function orgName(code: string): string {
    return grants.value.find((g) => g.org_code === code)?.org_name ?? code
  }

  function forget(): void {
    me.value = null
    acting.value = null
    loaded.value = false
    unread.value = 0
  }

  return {
    me,
    loaded,
    acting,
    unread,
    grants,
    role,
    orgCode,
    orgName,
    act,
    ensureLoaded,
    canActAs,
    switchToGrantFor,
    refreshUnread,
    forget,
  }
})
