import type { components, paths } from './generated/training'
import { serviceClient } from './http'

/** The training service's API, typed by its OpenAPI document (src/api/generated/training.ts). */
export const trainingApi = serviceClient<paths>()
export type TrainingSchemas = components['schemas']
