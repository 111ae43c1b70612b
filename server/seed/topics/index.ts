/** All topics of the synthetic catalogue, in a stable order (generation depends on it). */
import { ELECTRONICS_TOPICS } from './electronics.js';
import { ENERGY_TOPICS } from './energy.js';
import { INDUSTRY_TOPICS } from './industry.js';
import { LIFE_SCIENCE_TOPICS } from './life-sciences.js';
import { MATERIAL_TOPICS } from './materials.js';
import { AGRI_SENSING_TOPICS } from './agri-sensing.js';
import type { Topic } from './types.js';

export type { Topic } from './types.js';
export { zh, en } from './types.js';

export const TOPICS: readonly Topic[] = Object.freeze([
  ...ENERGY_TOPICS,
  ...ELECTRONICS_TOPICS,
  ...LIFE_SCIENCE_TOPICS,
  ...MATERIAL_TOPICS,
  ...INDUSTRY_TOPICS,
  ...AGRI_SENSING_TOPICS,
]);

export const TOPIC_KEYS: readonly string[] = TOPICS.map((t) => t.key);
