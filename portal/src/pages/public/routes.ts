import type { RouteRecordRaw } from 'vue-router'

// Pages anyone may open without signing in (they stand outside the shell).
const routes: RouteRecordRaw[] = [
  {
    path: '/verify/:number?',
    name: 'certificate-check',
    component: () => import('./CertificateCheckPage.vue'),
    props: true,
    meta: { public: true, titleKey: 'public.check.title' },
  },
]

export default routes
