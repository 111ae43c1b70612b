/**
 * Technology fields (技术领域) that patents and needs are tagged with: the
 * strategic emerging industries the YRD programmes fund, plus the everyday
 * fields SMEs search in. Keys are stable identifiers; names live in the
 * dictionaries under `field.<key>`.
 */
export const TECH_FIELDS = [
  'integrated_circuits', // 集成电路
  'biomedicine', // 生物医药
  'artificial_intelligence', // 人工智能
  'new_energy', // 新能源
  'new_materials', // 新材料
  'advanced_manufacturing', // 高端装备
  'information_technology', // 新一代信息技术 / 软件
  'energy_saving_environment', // 节能环保
  'intelligent_vehicles', // 智能网联汽车
  'modern_agriculture', // 现代农业
  'sensing_instruments', // 传感与仪器
  'medical_devices', // 医疗器械
  'chemical_engineering', // 化工
  'textiles_light_industry', // 纺织轻工
  'construction', // 建筑与土木
] as const;

export type TechField = (typeof TECH_FIELDS)[number];

export function isTechField(v: string): v is TechField {
  return (TECH_FIELDS as readonly string[]).includes(v);
}
