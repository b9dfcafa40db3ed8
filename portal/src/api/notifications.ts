import type { components, paths } from './generated/notifications'
import { serviceClient } from './http'

/** The notifications service's API, typed by its OpenAPI document (src/api/generated/notifications.ts). */
export const notificationsApi = serviceClient<paths>()
export type NotificationsSchemas = components['schemas']
