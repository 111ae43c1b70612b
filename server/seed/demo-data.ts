/**
 * The demo organisations and logins: universities and institutes in all four
 * provinces, enterprises of every size class, a fund operator, a regulator
 * and the platform admin. Names are invented (not real institutions); credit
 * codes are generated with valid check characters.
 */
import type { OrgKind, Region } from '../../models/organization.js';
import type { SmeSector } from '../domain/sme-size.js';

/** Every demo account uses this password (printed in the README). */
export const DEMO_PASSWORD = 'Demo-2026-yrd';

export interface DemoOrg {
  key: string;
  kind: OrgKind;
  nameZh: string;
  nameEn: string;
  region: Region;
  /** Registration authority + category code, then the division code; the rest is generated. */
  usccPrefix: string;
  verified: boolean;
  enterprise?: { sector: SmeSector; employees: number; annualRevenueFen: number };
  users: { email: string; name: string; orgAdmin: boolean; locale: 'zh-CN' | 'en' }[];
}

const WAN = 1_000_000; // fen per 万元

export const DEMO_ORGS: DemoOrg[] = [
  { key: 'platform', kind: 'platform', nameZh: '长三角科技成果许可交易平台运营中心', nameEn: 'YRD Exchange Operations', region: 'SH', usccPrefix: '12310000', verified: true,
    users: [{ email: 'admin@demo.yrd-exchange.cn', name: '平台管理员 王敏', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'authority', kind: 'authority', nameZh: '长三角科技创新协同监管办公室', nameEn: 'YRD Science & Technology Coordination Office', region: 'SH', usccPrefix: '11310000', verified: true,
    users: [{ email: 'regulator@demo.yrd-exchange.cn', name: '监管专员 陈立', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'fund', kind: 'fund', nameZh: '长三角成果转化风险补偿基金管理有限公司', nameEn: 'YRD Transfer Risk Compensation Fund Management Co.', region: 'SH', usccPrefix: '91310000', verified: true,
    users: [{ email: 'fund@demo.yrd-exchange.cn', name: '基金经理 周航', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'univ-sh', kind: 'university', nameZh: '沪东科技大学', nameEn: 'Hudong University of Science and Technology', region: 'SH', usccPrefix: '12310000', verified: true,
    users: [
      { email: 'tto.sh@demo.yrd-exchange.cn', name: '技术转移中心 李静', orgAdmin: true, locale: 'zh-CN' },
      { email: 'tto.sh.en@demo.yrd-exchange.cn', name: 'Grace Liu', orgAdmin: false, locale: 'en' },
    ] },
  { key: 'univ-js', kind: 'university', nameZh: '金陵理工大学', nameEn: 'Jinling Institute of Technology University', region: 'JS', usccPrefix: '12320000', verified: true,
    users: [{ email: 'tto.js@demo.yrd-exchange.cn', name: '技术转移办公室 张伟', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'univ-zj', kind: 'university', nameZh: '钱塘大学', nameEn: 'Qiantang University', region: 'ZJ', usccPrefix: '12330000', verified: true,
    users: [{ email: 'tto.zj@demo.yrd-exchange.cn', name: '成果转化处 赵蕾', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'univ-ah', kind: 'university', nameZh: '庐州工业大学', nameEn: 'Luzhou University of Technology', region: 'AH', usccPrefix: '12340000', verified: true,
    users: [{ email: 'tto.ah@demo.yrd-exchange.cn', name: '科技成果转化中心 孙浩', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'inst-js', kind: 'institute', nameZh: '长三角先进材料研究院', nameEn: 'YRD Institute of Advanced Materials', region: 'JS', usccPrefix: '12320000', verified: true,
    users: [{ email: 'tto.materials@demo.yrd-exchange.cn', name: '知识产权办 吴桐', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'inst-ah', kind: 'institute', nameZh: '合肥智能感知研究所', nameEn: 'Hefei Institute of Intelligent Sensing', region: 'AH', usccPrefix: '12340000', verified: false,
    users: [{ email: 'tto.sensing@demo.yrd-exchange.cn', name: '成果办 郑阳', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'sme-micro', kind: 'enterprise', nameZh: '杭州澄算软件有限公司', nameEn: 'Hangzhou Chengsuan Software Co., Ltd.', region: 'ZJ', usccPrefix: '91330100', verified: true,
    enterprise: { sector: 'software_it', employees: 8, annualRevenueFen: 300 * WAN },
    users: [{ email: 'sme.micro@demo.yrd-exchange.cn', name: '创始人 林晓', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'sme-small', kind: 'enterprise', nameZh: '苏州微纳传感科技有限公司', nameEn: 'Suzhou Micro-Nano Sensing Technology Co., Ltd.', region: 'JS', usccPrefix: '91320500', verified: true,
    enterprise: { sector: 'industry', employees: 85, annualRevenueFen: 5_000 * WAN },
    users: [{ email: 'sme.small@demo.yrd-exchange.cn', name: '技术总监 何鹏', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'sme-medium', kind: 'enterprise', nameZh: '芜湖恒驰新能源装备股份有限公司', nameEn: 'Wuhu Hengchi New Energy Equipment Co., Ltd.', region: 'AH', usccPrefix: '91340200', verified: true,
    enterprise: { sector: 'industry', employees: 520, annualRevenueFen: 30_000 * WAN },
    users: [{ email: 'sme.medium@demo.yrd-exchange.cn', name: '研发部 马骏', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'sme-large', kind: 'enterprise', nameZh: '上海浦江精密制造集团有限公司', nameEn: 'Shanghai Pujiang Precision Manufacturing Group', region: 'SH', usccPrefix: '91310115', verified: true,
    enterprise: { sector: 'industry', employees: 1_800, annualRevenueFen: 90_000 * WAN },
    users: [{ email: 'enterprise.large@demo.yrd-exchange.cn', name: '战略部 钱程', orgAdmin: true, locale: 'zh-CN' }] },
  { key: 'sme-pending', kind: 'enterprise', nameZh: '宁波海曙智造机器人有限公司', nameEn: 'Ningbo Haishu Robotics Co., Ltd.', region: 'ZJ', usccPrefix: '91330203', verified: false,
    enterprise: { sector: 'industry', employees: 35, annualRevenueFen: 1_200 * WAN },
    users: [{ email: 'sme.pending@demo.yrd-exchange.cn', name: '总经理 陆遥', orgAdmin: true, locale: 'zh-CN' }] },
];
