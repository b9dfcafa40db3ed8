import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/router/meta'

// 信息化治理 (governance): project plans checked against the city platform and reviewed (信息化项目建设方案审核), the
// city platform's catalogue, and the application registry (应用系统对接台账). The roles are the governance service's.

/** Who writes and sends plans (plans.SUBMITTER_ROLES): a district bureau or a school. */
export const PLAN_WRITER_ROLES: Role[] = ['school_admin', 'county_reviewer']
/** Who records the acceptances (plans.ACCEPTOR_ROLES): the city bureau. */
export const ACCEPTOR_ROLES: Role[] = ['city_reviewer']
/** Who reads plans (plans.READER_ROLES). */
export const PLAN_READER_ROLES: Role[] = [...PLAN_WRITER_ROLES, 'city_reviewer', 'platform_admin', 'auditor']
/** Who keeps the city platform's catalogue (catalogue.KEEPER_ROLES). */
export const CATALOGUE_KEEPER_ROLES: Role[] = ['city_reviewer', 'platform_admin']
/** Who registers application systems (registry.KEEPER_ROLES). */
export const REGISTRY_KEEPER_ROLES: Role[] = ['school_admin', 'county_reviewer', 'city_reviewer', 'platform_admin']
/** Who reads the registry (registry.READER_ROLES). */
export const REGISTRY_READER_ROLES: Role[] = [...REGISTRY_KEEPER_ROLES, 'auditor', 'evaluator']

const routes: RouteRecordRaw[] = [
  {
    path: '/governance/plans',
    name: 'governance-plans',
    component: () => import('./PlansPage.vue'),
    meta: {
      roles: PLAN_READER_ROLES,
      titleKey: 'governance.plans.title',
      menu: { labelKey: 'governance.plans.menu', icon: 'Document', order: 60 },
    },
  },
  {
    path: '/governance/plans/new',
    name: 'governance-plan-new',
    component: () => import('./PlanFormPage.vue'),
    meta: { roles: PLAN_WRITER_ROLES, titleKey: 'governance.form.titleNew' },
  },
  {
    path: '/governance/plans/:planId/edit',
    name: 'governance-plan-edit',
    component: () => import('./PlanFormPage.vue'),
    props: true,
    meta: { roles: PLAN_WRITER_ROLES, titleKey: 'governance.form.titleEdit' },
  },
  {
    path: '/governance/plans/:planId',
    name: 'governance-plan',
    component: () => import('./PlanPage.vue'),
    props: true,
    meta: { roles: PLAN_READER_ROLES, titleKey: 'governance.plan.title', opens: 'plan_id' },
  },
  {
    path: '/governance/catalogue',
    name: 'governance-catalogue',
    component: () => import('./CataloguePage.vue'),
    meta: {
      roles: CATALOGUE_KEEPER_ROLES,
      titleKey: 'governance.catalogue.title',
      menu: { labelKey: 'governance.catalogue.menu', icon: 'Collection', order: 61 },
    },
  },
  {
    path: '/governance/applications',
    name: 'governance-applications',
    component: () => import('./ApplicationsPage.vue'),
    meta: {
      roles: REGISTRY_READER_ROLES,
      titleKey: 'governance.applications.title',
      menu: { labelKey: 'governance.applications.menu', icon: 'Connection', order: 62 },
    },
  },
]

export default routes
