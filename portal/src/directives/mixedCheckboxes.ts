import type { Directive } from 'vue'

/**
 * Element Plus marks an indeterminate checkbox (a table's "select all" while only some rows are chosen) with
 * aria-checked="mixed" on its <label>, which a label may not carry (axe: aria-allowed-attr, critical), so a reviewer
 * who picks some tasks of the inbox gets a page assistive technology misreads. The state belongs to the checkbox
 * itself: the native input is set indeterminate (read as "mixed") and the label's attribute goes, whenever the
 * table re-renders it.
 */
function fix(root: HTMLElement): void {
  root.querySelectorAll<HTMLElement>('label.el-checkbox[aria-checked]').forEach((label) => label.removeAttribute('aria-checked'))
  root.querySelectorAll<HTMLInputElement>('.el-checkbox input[type="checkbox"]').forEach((input) => {
    input.indeterminate = input.closest('.el-checkbox__input')?.classList.contains('is-indeterminate') ?? false
  })
}

const observers = new WeakMap<HTMLElement, MutationObserver>()

export const vMixedCheckboxes: Directive<HTMLElement> = {
  mounted(el) {
    fix(el)
    const observer = new MutationObserver(() => fix(el))
    observer.observe(el, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-checked', 'class'] })
    observers.set(el, observer)
  },
  unmounted(el) {
    observers.get(el)?.disconnect()
    observers.delete(el)
  },
}
