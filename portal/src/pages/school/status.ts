type TagType = 'primary' | 'success' | 'warning' | 'info' | 'danger'

const TAGS: Record<string, TagType> = {
  approved: 'success',
  rejected: 'danger',
  returned: 'warning',
  withdrawn: 'info',
  draft: 'info',
}

/** The tag colour of a nomination's status. */
export function statusTag(status: string | undefined): TagType {
  return TAGS[status ?? ''] ?? 'primary'
}
