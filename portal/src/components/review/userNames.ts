import { reactive } from 'vue'
import { identityApi } from '@/api/identity'

// Delegations and decisions name people by user id; the pages show their names. Each id is asked once per page life
// (identity answers for people in the reader's scope; anyone else stays shown by id).
const names = reactive<Record<string, string>>({})
const asked = new Set<string>()

export function rememberName(userId: string, name: string): void {
  names[userId] = name
}

export function nameOf(userId: string | null | undefined): string {
  if (!userId) return ''
  if (!asked.has(userId) && !names[userId]) {
    asked.add(userId)
    void identityApi.GET('/api/users/{user_id}', { params: { path: { user_id: userId } } }).then(({ data }) => {
      if (data?.display_name) names[userId] = data.display_name
    })
  }
  return names[userId] ?? userId
}
