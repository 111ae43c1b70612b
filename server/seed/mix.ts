/**
 * The shares the synthetic catalogue is drawn with. Shanghai and Jiangsu hold
 * most university patents in the delta; most enterprises on the exchange are
 * micro and small, the firms the pay-later programme is meant for.
 */
import type { Region } from '../../models/organization.js';
import type { SizeClass } from '../domain/sme-size.js';

export const REGION_WEIGHTS: Readonly<Record<Region, number>> = { SH: 30, JS: 32, ZJ: 24, AH: 14 };

export const SIZE_CLASS_WEIGHTS: Readonly<Record<SizeClass, number>> = { micro: 35, small: 40, medium: 20, not_sme: 5 };
