import type { components, paths } from './generated/nominations'
import { serviceClient } from './http'

/** The nominations service's API, typed by its OpenAPI document (src/api/generated/nominations.ts). */
export const nominationsApi = serviceClient<paths>()
export type NominationsSchemas = components['schemas']
