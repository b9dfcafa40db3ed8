import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/router/meta'

/** Everyone who decides a stage of some policy's chain (the school's own 单位意见 stage included). */
export const REVIEWER_ROLES: Role[] = [
  'county_reviewer',
  'city_reviewer',
  'university_president',
  'university_office_meeting',
  'party_committee',
  'school_admin',
]

const routes: RouteRecordRaw[] = [
  {
    path: '/review',
    name: 'review-inbox',
    component: () => import('./ReviewInboxPage.vue'),
    meta: {
      roles: REVIEWER_ROLES,
      titleKey: 'review.inbox.title',
      menu: { labelKey: 'review.inbox.menu', icon: 'Stamp', order: 20 },
    },
  },
  {
    path: '/review/tasks/:taskId',
    name: 'review-task',
    component: () => import('./ReviewTaskPage.vue'),
    props: true,
    meta: { roles: REVIEWER_ROLES, titleKey: 'review.task.title', opens: 'task_id' },
  },
  {
    path: '/review/delegations',
    name: 'review-delegations',
    component: () => import('./DelegationsPage.vue'),
    meta: {
      roles: REVIEWER_ROLES,
      titleKey: 'review.delegations.title',
      menu: { labelKey: 'review.delegations.menu', icon: 'User', order: 25 },
    },
  },
]

export default routes
