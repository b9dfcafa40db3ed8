import type { components, paths } from './generated/governance'
import { serviceClient } from './http'

/** The governance service's API (project plans, the city platform's catalogue, the application registry), typed by
 * its OpenAPI document (src/api/generated/governance.ts). */
export const governanceApi = serviceClient<paths>()
export type GovernanceSchemas = components['schemas']
