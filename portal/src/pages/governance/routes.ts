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
/** 月调度: who reports (scheduling.REPORTER_ROLES), who records meetings (MEETING_ROLES), who reads (READER_ROLES). */
export const REPORTER_ROLES: Role[] = ['county_reviewer']
export const MEETING_ROLES: Role[] = ['city_reviewer', 'county_reviewer', 'platform_admin']
export const SCHEDULING_READER_ROLES: Role[] = [...MEETING_ROLES, 'auditor']
/** Security work: who records checks, rectifications and emergency plans (security.UNIT_ROLES), who reads. */
export const SECURITY_UNIT_ROLES: Role[] = ['school_admin', 'cio', 'city_reviewer', 'county_reviewer', 'platform_admin']
export const SECURITY_READER_ROLES: Role[] = [...SECURITY_UNIT_ROLES, 'auditor', 'university_president']
/** Yichun's committee: who constitutes it (committee.KEEPER_ROLES), who convenes meetings, who reads. */
export const COMMITTEE_KEEPER_ROLES: Role[] = ['university_president', 'party_committee', 'cio', 'platform_admin']
export const CONVENER_ROLES: Role[] = ['cio', 'university_president', 'platform_admin']
export const COMMITTEE_READER_ROLES: Role[] = [...COMMITTEE_KEEPER_ROLES, 'university_office_meeting', 'liaison', 'auditor']

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
  {
    path: '/governance/scheduling',
    name: 'governance-scheduling',
    component: () => import('./SchedulingPage.vue'),
    meta: {
      roles: SCHEDULING_READER_ROLES,
      titleKey: 'governance.scheduling.title',
      menu: { labelKey: 'governance.scheduling.menu', icon: 'Calendar', order: 63 },
    },
  },
  {
    path: '/governance/meetings',
    name: 'governance-meetings',
    component: () => import('./MeetingsPage.vue'),
    meta: {
      roles: SCHEDULING_READER_ROLES,
      titleKey: 'governance.meetings.title',
      menu: { labelKey: 'governance.meetings.menu', icon: 'List', order: 64 },
    },
  },
  {
    path: '/governance/security',
    name: 'governance-security',
    component: () => import('./SecurityPage.vue'),
    meta: {
      roles: SECURITY_READER_ROLES,
      titleKey: 'governance.security.title',
      menu: { labelKey: 'governance.security.menu', icon: 'Warning', order: 65 },
    },
  },
  {
    path: '/governance/committee',
    name: 'governance-committee',
    component: () => import('./CommitteePage.vue'),
    meta: {
      roles: COMMITTEE_READER_ROLES,
      titleKey: 'governance.committee.title',
      menu: { labelKey: 'governance.committee.menu', icon: 'User', order: 66 },
    },
  },
]

export default routes
