import type { RouteRecordRaw } from 'vue-router'

// 审计: read-only views of the records in the auditor's scope and their append-only histories. No page of this area
// has a write control; the services refuse an auditor's writes as well (tests/browser/test_auditor_pages.py).
const routes: RouteRecordRaw[] = [
  {
    path: '/audit/cases',
    name: 'audit-cases',
    component: () => import('./AuditCasesPage.vue'),
    meta: {
      roles: ['auditor'],
      titleKey: 'audit.cases.title',
      menu: { labelKey: 'audit.cases.menu', icon: 'Document', order: 10 },
    },
  },
  {
    path: '/audit/cases/:caseId',
    name: 'audit-case',
    component: () => import('./AuditCasePage.vue'),
    props: true,
    meta: { roles: ['auditor'], titleKey: 'audit.case.title' },
  },
]

export default routes
