export { MemoryPlacement, type MemoryPlacementOptions } from './memory/memory-placement';
export {
  DEFAULT_ASSIGNMENT_TTL_MS,
  MAX_COUNT,
  SIGHTING_RETENTION_MS,
  type NodeForOptions,
  type NodeSighting,
  type Placement,
  type SfuNode,
} from './placement';
