import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/router/meta'

/** Who opens and closes rounds (each policy's `issuer_roles`): the city, county and university bodies. */
export const ISSUER_ROLES: Role[] = ['city_reviewer', 'county_reviewer', 'university_president', 'platform_admin']
/** Who reads rounds and their progress: the issuers, and the auditor (read-only, every write control hidden). */
export const ROUND_READER_ROLES: Role[] = [...ISSUER_ROLES, 'auditor']
/** Who runs evaluations (approvals' CAMPAIGN_ROLES): the bureaus' evaluators and reviewers, the university's party
 * committee; the auditor reads them. */
export const EVALUATOR_ROLES: Role[] = ['evaluator', 'city_reviewer', 'county_reviewer', 'party_committee', 'platform_admin']
export const EVALUATION_READER_ROLES: Role[] = [...EVALUATOR_ROLES, 'auditor']

const routes: RouteRecordRaw[] = [
  {
    path: '/bureau/rounds',
    name: 'bureau-rounds',
    component: () => import('./RoundsPage.vue'),
    meta: {
      roles: ROUND_READER_ROLES,
      titleKey: 'bureau.rounds.title',
      menu: { labelKey: 'bureau.rounds.menu', icon: 'Flag', order: 30 },
    },
  },
  {
    path: '/bureau/dashboard',
    name: 'bureau-dashboard',
    component: () => import('./DashboardPage.vue'),
    meta: {
      roles: ROUND_READER_ROLES,
      titleKey: 'bureau.dashboard.title',
      menu: { labelKey: 'bureau.dashboard.menu', icon: 'DataAnalysis', order: 40 },
    },
  },
  {
    path: '/bureau/appointments',
    name: 'bureau-appointments',
    component: () => import('./AppointmentsPage.vue'),
    meta: {
      roles: ROUND_READER_ROLES,
      titleKey: 'bureau.appointments.title',
      menu: { labelKey: 'bureau.appointments.menu', icon: 'Medal', order: 35 },
    },
  },
  {
    path: '/bureau/evaluations',
    name: 'bureau-evaluations',
    component: () => import('./EvaluationsPage.vue'),
    meta: {
      roles: EVALUATION_READER_ROLES,
      titleKey: 'bureau.evaluations.title',
      menu: { labelKey: 'bureau.evaluations.menu', icon: 'Finished', order: 36 },
    },
  },
  {
    path: '/bureau/evaluations/:evaluationId',
    name: 'bureau-evaluation',
    component: () => import('./EvaluationPage.vue'),
    props: true,
    meta: { roles: EVALUATION_READER_ROLES, titleKey: 'bureau.evaluation.title', opens: 'evaluation_id' },
  },
  {
    path: '/bureau/rectifications',
    name: 'bureau-rectifications',
    component: () => import('./RectificationsPage.vue'),
    meta: {
      roles: EVALUATION_READER_ROLES,
      titleKey: 'bureau.rectifications.title',
      menu: { labelKey: 'bureau.rectifications.menu', icon: 'Warning', order: 37 },
    },
  },
  {
    path: '/bureau/rounds/:roundId',
    name: 'bureau-round-progress',
    component: () => import('./RoundProgressPage.vue'),
    props: true,
    meta: { roles: ROUND_READER_ROLES, titleKey: 'bureau.progress.title' },
  },
]

export default routes
