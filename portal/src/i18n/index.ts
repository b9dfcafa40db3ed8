import { createI18n, type LocaleMessageValue } from 'vue-i18n'

/** The portal's languages; zh-CN first. The choice (never anything else) is kept in localStorage. */
export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
const STORAGE_KEY = 'cio.locale'

type Messages = Record<string, LocaleMessageValue>
// Each area (common, school, review, cio, …) has one file per language: src/i18n/<locale>/<area>.ts, whose default
// export becomes the `<area>.` namespace. Adding an area adds files; this module does not change.
const modules = import.meta.glob<{ default: Messages }>('./*/*.ts', { eager: true })
const messages: Record<string, Messages> = {}
for (const [path, module] of Object.entries(modules)) {
  const [, locale, file] = path.split('/')
  const area = file.replace(/\.ts$/, '')
  messages[locale] ??= {}
  messages[locale][area] = module.default
}

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  return (LOCALES as readonly string[]).includes(saved ?? '') ? (saved as Locale) : 'zh-CN'
}

export const i18n = createI18n<false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages,
  datetimeFormats: {
    'zh-CN': {
      date: { year: 'numeric', month: '2-digit', day: '2-digit' },
      datetime: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' },
    },
    en: {
      date: { year: 'numeric', month: 'short', day: 'numeric' },
      datetime: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' },
    },
  },
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(STORAGE_KEY, locale)
  document.documentElement.lang = locale
}

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

document.documentElement.lang = initialLocale()

/** A text the API gives in both languages (`x_zh` / `x_en`), in the reader's language. */
export function localized(zh: string | null | undefined, en: string | null | undefined): string {
  return (currentLocale() === 'en' ? en || zh : zh || en) ?? ''
}
