import { ref, shallowRef } from 'vue'

/**
 * What every page does around its read, in one place: a `loading` flag for `AsyncState` (true from the start when
 * the page shows nothing until the first read is done), the failure kept in `error` so the page shows it with a
 * retry instead of an unhandled rejection, and the previous failure cleared when the page reads again.
 */
export function useLoad(read: () => Promise<void>, { loadingAtFirst = true } = {}) {
  const loading = ref(loadingAtFirst)
  const error = shallowRef<unknown>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      await read()
    } catch (exc) {
      error.value = exc
    } finally {
      loading.value = false
    }
  }

  return { loading, error, load }
}
