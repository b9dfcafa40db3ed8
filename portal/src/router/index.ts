import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { i18n } from '@/i18n'
import { useSessionStore } from '@/stores/session'
import './meta'

// Each area declares its pages in src/pages/<area>/routes.ts (default export: RouteRecordRaw[]). Signed-in pages go
// inside the shell; `meta.public` ones (sign-in) stand alone. Adding an area adds a file; this module does not change.
const areaModules = import.meta.glob<{ default: RouteRecordRaw[] }>('../pages/*/routes.ts', { eager: true })
const areaRoutes = Object.values(areaModules).flatMap((m) => m.default)
const publicRoutes = areaRoutes.filter((r) => r.meta?.public)
const shellRoutes = areaRoutes.filter((r) => !r.meta?.public)

export const routes: RouteRecordRaw[] = [
  ...publicRoutes,
  {
    path: '/',
    component: () => import('@/layouts/ShellLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/pages/common/HomeRedirect.vue') },
      ...shellRoutes,
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/pages/common/NotFoundPage.vue'),
        meta: { titleKey: 'common.notFound.title' },
      },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const session = useSessionStore()
  const signedIn = await session.ensureLoaded()
  if (!signedIn) return { name: 'sign-in', query: { redirect: to.fullPath } }
  if (to.meta.roles && !session.canActAs(to.meta.roles)) {
    return session.switchToGrantFor(to.meta.roles) ? true : { name: 'home' }
  }
  return true
})

// A page's code is fetched when the page is first opened. That fetch can fail: a deploy replaced the hashed files
// the open tab knows, or the network dropped it. Loading the address afresh fetches the current build; once per
// address, so a file that is really gone ends on the error instead of reloading for ever.
const RELOADED_FOR = 'cio.reloaded-for'
const CHUNK_FAILED = /Failed to fetch dynamically imported module|Importing a module script failed|error loading dynamically imported module/

router.onError((error: unknown, to) => {
  const message = error instanceof Error ? error.message : String(error)
  if (CHUNK_FAILED.test(message) && sessionStorage.getItem(RELOADED_FOR) !== to.fullPath) {
    sessionStorage.setItem(RELOADED_FOR, to.fullPath)
    window.location.assign(to.fullPath)
    return
  }
  console.error(error)
})

router.afterEach((to) => {
  sessionStorage.removeItem(RELOADED_FOR)
  const t = i18n.global.t
  const title = to.meta.titleKey ? t(to.meta.titleKey) : ''
  document.title = title ? `${title} · ${t('common.app.name')}` : t('common.app.name')
})
