export { MemoryPlacement, type MemoryPlacementOptions } from './memory/memory-placement';
export { DEFAULT_ASSIGNMENT_TTL_MS, MAX_COUNT, type NodeForOptions, type Placement, type SfuNode } from './placement';
