import type { RouteRecordRaw } from 'vue-router'

// 培训管理员: trainings with attendance imports, certificates (record, revoke, import, public check link) and the
// year's compliance table.
const routes: RouteRecordRaw[] = [
  {
    path: '/training/trainings',
    name: 'training-list',
    component: () => import('./TrainingsPage.vue'),
    meta: {
      roles: ['training_admin'],
      titleKey: 'training.trainings.title',
      menu: { labelKey: 'training.trainings.menu', icon: 'Reading', order: 10 },
    },
  },
  {
    path: '/training/trainings/:trainingId',
    name: 'training-detail',
    component: () => import('./TrainingPage.vue'),
    props: true,
    meta: { roles: ['training_admin'], titleKey: 'training.training.title' },
  },
  {
    path: '/training/certificates',
    name: 'training-certificates',
    component: () => import('./CertificatesPage.vue'),
    meta: {
      roles: ['training_admin'],
      titleKey: 'training.certificates.title',
      menu: { labelKey: 'training.certificates.menu', icon: 'Medal', order: 20 },
    },
  },
  {
    path: '/training/compliance',
    name: 'training-compliance',
    component: () => import('./CompliancePage.vue'),
    meta: {
      roles: ['training_admin'],
      titleKey: 'training.compliance.title',
      menu: { labelKey: 'training.compliance.menu', icon: 'Finished', order: 30 },
    },
  },
]

export default routes
