import type { RouteRecordRaw } from 'vue-router'

// 平台管理员: the org tree, users and their grants, the configured single sign-on with recent outcomes, and the
// notifications' delivery log.
const routes: RouteRecordRaw[] = [
  {
    path: '/admin/orgs',
    name: 'admin-orgs',
    component: () => import('./OrgsPage.vue'),
    meta: { roles: ['platform_admin'], titleKey: 'admin.orgs.title', menu: { labelKey: 'admin.orgs.menu', icon: 'HomeFilled', order: 10 } },
  },
  {
    path: '/admin/users',
    name: 'admin-users',
    component: () => import('./UsersPage.vue'),
    meta: { roles: ['platform_admin'], titleKey: 'admin.users.title', menu: { labelKey: 'admin.users.menu', icon: 'User', order: 11 } },
  },
  {
    path: '/admin/sso',
    name: 'admin-sso',
    component: () => import('./SsoPage.vue'),
    meta: { roles: ['platform_admin'], titleKey: 'admin.sso.title', menu: { labelKey: 'admin.sso.menu', icon: 'Setting', order: 12 } },
  },
  {
    path: '/admin/deliveries',
    name: 'admin-deliveries',
    component: () => import('./DeliveriesPage.vue'),
    meta: { roles: ['platform_admin'], titleKey: 'admin.deliveries.title', menu: { labelKey: 'admin.deliveries.menu', icon: 'Tickets', order: 13 } },
  },
]

export default routes
