import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/cio',
    name: 'cio-home',
    component: () => import('./CioHomePage.vue'),
    meta: { roles: ['cio'], titleKey: 'cio.home.title', menu: { labelKey: 'cio.home.menu', icon: 'Medal', order: 10 } },
  },
  {
    path: '/cio/evaluations/:evaluationId',
    name: 'cio-self-assessment',
    component: () => import('./SelfAssessmentPage.vue'),
    props: true,
    meta: { roles: ['cio'], titleKey: 'cio.selfAssessment.title' },
  },
]

export default routes
