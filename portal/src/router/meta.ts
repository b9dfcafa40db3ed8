import 'vue-router'

export type Role =
  | 'platform_admin'
  | 'city_reviewer'
  | 'county_reviewer'
  | 'school_admin'
  | 'university_president'
  | 'university_office_meeting'
  | 'party_committee'
  | 'training_admin'
  | 'evaluator'
  | 'cio'
  | 'liaison'
  | 'auditor'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session (the sign-in page); such routes sit outside the shell. */
    public?: boolean
    /** The roles a page needs: the acting grant's role must be one of them. Absent: any signed-in person. */
    roles?: Role[]
    /** i18n key of the page's title (document title, breadcrumb). */
    titleKey?: string
    /** Present when the page has a menu entry: its label key, an Element Plus icon name and its order. */
    menu?: { labelKey: string; icon?: string; order?: number }
    /**
     * The message data key this page shows a record of (e.g. `nomination_id`, `task_id`); the route's one param takes
     * its value. The inbox links a message to the first such page the person's grants allow.
     */
    opens?: string
  }
}
