/**
 * Needs written by hand the way SME owners post them — colloquial, vague,
 * sometimes naming a product instead of a technology — with the topics a
 * domain expert would accept as relevant. Written independently of the
 * generator's vocabulary: these test whether matching copes with words the
 * patents do not use verbatim. Fields are left as SMEs fill them (often not).
 */
import type { TechField } from '../../server/domain/tech-fields.js';

export interface HandNeed {
  title: string;
  problem: string;
  fields: TechField[];
  topics: string[];
}

export const HAND_NEEDS: HandNeed[] = [
  { title: '电瓶车电池不耐用', problem: '我们卖电瓶车的，锂电池用了一年就跑不了多远，夏天还有电池鼓起来的，售后压力大。有没有更耐用的电池材料？', fields: [], topics: ['lithium_cathode', 'ev_bms'] },
  { title: '电动车突然断电', problem: '物流三轮车电量表显示还有电，结果半路就停了，司机意见很大，想把电池电量算准。', fields: ['intelligent_vehicles'], topics: ['ev_bms'] },
  { title: '厂房屋顶想装光伏', problem: '厂房屋顶面积不大，想装发电效率高一点的太阳能板，听说有新一代的薄膜电池？', fields: ['new_energy'], topics: ['perovskite_pv'] },
  { title: '峰谷电价差想储能', problem: '我们工厂白天用电贵，想晚上存电白天用，但是储能电池投资太大，有便宜点的电池吗', fields: [], topics: ['sodium_storage'] },
  { title: '芯片表面划痕检测', problem: '硅片抛光后表面的细小划痕和脏点人眼检查容易漏，想上自动化的光学检测设备', fields: ['integrated_circuits'], topics: ['wafer_defect'] },
  { title: '充电桩模块效率', problem: '快充桩的电源模块太热了，风扇呼呼响，效率做不上去，想用新型功率半导体', fields: [], topics: ['sic_power'] },
  { title: '机器人分拣杂乱零件', problem: '冲压件出来是乱堆的，想让机械臂自动识别位置抓起来放到下一道工序，现在全是人工', fields: ['advanced_manufacturing'], topics: ['robot_vision_grasp'] },
  { title: '老机床数据上云', problem: '车间有很多老设备，没有网口，想知道每台机器每天干了多少活、停了多久', fields: [], topics: ['iiot_edge'] },
  { title: '中药材提取工艺', problem: '我们收购丹参、灵芝做提取物，出粉率低，还要用很多酒精，想要更环保高效的提取办法', fields: ['biomedicine'], topics: ['tcm_extraction'] },
  { title: '益生菌粉保质期', problem: '益生菌固体饮料放半年菌就死了大半，检测不合格，想找能让菌活得更久的工艺', fields: [], topics: ['probiotic_fermentation'] },
  { title: '老人心脏监护', problem: '社区养老想给独居老人配一个能一直戴着测心电的小设备，发现心跳异常自动通知家属', fields: [], topics: ['ecg_wearable'] },
  { title: 'CT片子自动看', problem: '县医院影像医生少，胸部CT看不过来，想要电脑自动标出可疑的小结节', fields: ['medical_devices'], topics: ['medical_imaging_ai'] },
  { title: '外卖盒环保替代', problem: '限塑令要求换环保餐具，现在的可降解饭盒一装热汤就软塌，能不能解决', fields: [], topics: ['biodegradable_plastic'] },
  { title: '钢结构防锈漆', problem: '我们做钢结构厂房，环保不让用油漆了，换的水漆在海边用一年就起锈，想找耐腐蚀的水性涂料', fields: ['chemical_engineering'], topics: ['waterborne_coating'] },
  { title: '袜子有臭味', problem: '做袜子出口，客户要求穿一天不臭，而且洗很多次还要有效', fields: ['textiles_light_industry'], topics: ['antibacterial_textile'] },
  { title: '染厂用水太多', problem: '我们染布厂一天用几千吨水，污水处理费太高，想少用水或者把水回收再用', fields: [], topics: ['dyeing_water_saving', 'wastewater_denitrification'] },
  { title: '刀具寿命管理', problem: 'CNC加工中心的刀具换早了浪费，换晚了工件报废，有没有能实时监测刀具状态的系统', fields: [], topics: ['tool_wear_monitoring'] },
  { title: '养殖场废水处理', problem: '养猪场的污水氨氮特别高，环保查得严，现在的处理设备出水老不达标', fields: ['energy_saving_environment'], topics: ['wastewater_denitrification'] },
  { title: '家具厂油漆味', problem: '家具厂喷漆房气味太大，周边小区老投诉，环保要求装废气处理，想找运行费用低的', fields: [], topics: ['vocs_treatment'] },
  { title: '茶厂机械化', problem: '我们茶厂做龙井，全靠师傅手工炒，人越来越难找，想上自动化的炒茶设备但又怕品质不好', fields: ['modern_agriculture'], topics: ['tea_processing'] },
  { title: '鱼塘增氧', problem: '夏天闷热天气鱼塘晚上容易缺氧，已经死过好几次鱼了，想装自动报警和开增氧的设备', fields: [], topics: ['aquaculture_water'] },
  { title: '杨梅快递保鲜', problem: '杨梅摘下来两天就坏，发快递到北方坏果率很高，想找保鲜的包装或者处理办法', fields: [], topics: ['fruit_preservation'] },
  { title: '智能鞋垫压力检测', problem: '想做一款能测脚底压力分布的鞋垫，现在的传感器太硬太厚，走路一弯数据就乱', fields: ['sensing_instruments'], topics: ['flexible_sensor'] },
  { title: '甲醛检测模块', problem: '我们做新风机，想加一个测甲醛的功能，但市面上便宜的传感器都不准', fields: [], topics: ['gas_sensor'] },
  { title: '氢能叉车', problem: '仓库想用氢燃料的叉车替代铅酸电池叉车，但燃料电池太贵，想找降成本的技术', fields: [], topics: ['hydrogen_fuel_cell'] },
  { title: '金属打印件质量', problem: '客户要钛合金打印件，我们打印的零件内部有小孔，探伤通不过', fields: ['advanced_manufacturing'], topics: ['metal_additive'] },
  { title: '焊接机器人焊不准', problem: '工件来料有误差，焊接机器人按程序焊经常焊偏，还要人补焊', fields: [], topics: ['welding_inspection'] },
  { title: '大棚自动浇水', problem: '家庭农场二十个草莓大棚，浇水施肥全靠人，想手机上就能控制', fields: [], topics: ['smart_irrigation'] },
];
