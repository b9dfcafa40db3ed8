import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/router/meta'

/** Who nominates: a school's administrator, or a university's president (宜春学院: 由学校校长提名推荐). */
export const NOMINATOR_ROLES: Role[] = ['school_admin', 'university_president']

const routes: RouteRecordRaw[] = [
  {
    path: '/school/rounds',
    name: 'school-rounds',
    component: () => import('./SchoolRoundsPage.vue'),
    meta: {
      roles: NOMINATOR_ROLES,
      titleKey: 'school.rounds.title',
      menu: { labelKey: 'school.rounds.menu', icon: 'Flag', order: 10 },
    },
  },
  {
    path: '/school/nominations/:nomination_id',
    name: 'school-nomination',
    component: () => import('./NominationWizardPage.vue'),
    props: true,
    meta: { roles: NOMINATOR_ROLES, titleKey: 'school.wizard.title', opens: 'nomination_id' },
  },
  {
    path: '/school/rectifications',
    name: 'school-rectifications',
    component: () => import('./SchoolRectificationsPage.vue'),
    // 整改报告 is the school's: its administrator or the CIO evaluated (approvals' SCHOOL_ROLES).
    meta: {
      roles: ['school_admin', 'cio'],
      titleKey: 'school.rectifications.title',
      menu: { labelKey: 'school.rectifications.menu', icon: 'Warning', order: 20 },
    },
  },
]

export default routes
