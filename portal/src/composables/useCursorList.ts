import { ref, shallowRef } from 'vue'

export interface CursorPage<T> {
  items?: T[]
  next_cursor?: string | null
}

/**
 * A list read page by page with the API's cursors (`?limit=&cursor=` → `{items, next_cursor}`): the first page on
 * `reload`, the next ones appended on `loadMore`, with loading and error states for the page to show.
 */
export function useCursorList<T>(fetchPage: (cursor: string | null) => Promise<CursorPage<T>>) {
  const items = ref<T[]>([]) as { value: T[] }
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<unknown>(null)

  async function load(cursor: string | null): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const page = await fetchPage(cursor)
      items.value = cursor ? [...items.value, ...(page.items ?? [])] : (page.items ?? [])
      nextCursor.value = page.next_cursor ?? null
      loaded.value = true
    } catch (exc) {
      error.value = exc
    } finally {
      loading.value = false
    }
  }

  return {
    items,
    nextCursor,
    loading,
    loaded,
    error,
    reload: () => load(null),
    loadMore: () => (nextCursor.value ? load(nextCursor.value) : Promise.resolve()),
  }
}
