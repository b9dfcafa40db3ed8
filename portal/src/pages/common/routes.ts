import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'sign-in',
    component: () => import('./SignInPage.vue'),
    meta: { public: true, titleKey: 'common.signIn.title' },
  },
  {
    path: '/inbox',
    name: 'inbox',
    component: () => import('./InboxPage.vue'),
    meta: { titleKey: 'common.inbox.title', menu: { labelKey: 'common.inbox.menu', icon: 'Bell', order: 90 } },
  },
  {
    path: '/preferences',
    name: 'preferences',
    component: () => import('./PreferencesPage.vue'),
    meta: {
      titleKey: 'common.preferences.title',
      menu: { labelKey: 'common.preferences.menu', icon: 'Setting', order: 95 },
    },
  },
]

export default routes
