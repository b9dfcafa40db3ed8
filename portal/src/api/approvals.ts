import type { components, paths } from './generated/approvals'
import { serviceClient } from './http'

/** The approvals service's API, typed by its OpenAPI document (src/api/generated/approvals.ts). */
export const approvalsApi = serviceClient<paths>()
export type ApprovalsSchemas = components['schemas']
