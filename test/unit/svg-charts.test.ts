/**
 * The chart geometry: round axis steps that always include zero, bars whose
 * heights are proportional to their values on the right side of the zero
 * line, lines through every point, labels thinned and cut for the axis but
 * whole in the table, the accessible names (title, desc with the extremes),
 * and the table carrying exactly the plotted numbers. Bad input is refused
 * rather than drawn wrong.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { barChart, lineChart, niceDomain, niceStep, type ChartInput } from '../../server/http/svg-charts.js';

const base = (over: Partial<ChartInput> = {}): ChartInput => ({
  id: 'chart-x', title: 'Defaults', desc: 'Bars of defaults.', xLabel: 'Province', yLabel: 'Yuan',
  categories: ['SH', 'JS', 'ZJ'], series: [{ name: 'Defaults', values: [300, 0, 150] }], format: (v) => `¥${v}`, ...over,
});

describe('svg charts', () => {
  it('picks steps of 1, 2 or 5 × 10ⁿ and a domain that includes zero and every value', () => {
    expect(niceStep(1000)).to.equal(200);
    expect(niceStep(870_000)).to.equal(200_000);
    expect(niceStep(0)).to.equal(1);
    expect(niceDomain([])).to.deep.equal({ min: 0, max: 1, step: 1 });
    fc.assert(fc.property(fc.array(fc.integer({ min: -1e12, max: 1e12 }), { maxLength: 30 }), (values) => {
      const d = niceDomain(values);
      expect(d.min).to.be.at.most(Math.min(0, ...values));
      expect(d.max).to.be.at.least(Math.max(0, ...values));
      expect(d.max).to.be.above(d.min);
      expect((d.max - d.min) / d.step).to.be.at.most(12);
      expect(d.min % d.step === 0 && d.max % d.step === 0).to.equal(true);
    }));
  });

  it('draws bars proportional to their values from the zero line, inside the plot', () => {
    const c = barChart(base());
    expect(c.bars).to.have.length(3);
    const [sh, js, zj] = c.bars;
    expect(sh!.y + sh!.height).to.equal(c.baseline.y);
    expect(js!.height).to.equal(0);
    expect(sh!.height / zj!.height).to.be.closeTo(2, 0.02);
    for (const b of c.bars) {
      expect(b.x).to.be.at.least(c.plot.left);
      expect(b.x + b.width).to.be.at.most(c.plot.right);
      expect(b.y).to.be.at.least(c.plot.top);
    }
    expect(sh!.tip).to.equal('SH: ¥300');
    // Negative values hang below the zero line.
    const neg = barChart(base({ series: [{ name: 'Net', values: [-100, 50, 0] }] }));
    expect(neg.bars[0]!.y).to.equal(neg.baseline.y);
    expect(neg.bars[1]!.y + neg.bars[1]!.height).to.equal(neg.baseline.y);
    expect(neg.yTicks[0]!.label.startsWith('¥-')).to.equal(true);
  });

  it('groups several series per category, with a legend and tooltips naming the series', () => {
    const c = barChart(base({ series: [{ name: 'Defaults', values: [1, 2, 3] }, { name: 'Compensation', values: [3, 2, 1] }] }));
    expect(c.bars).to.have.length(6);
    expect(c.bars.map((b) => b.series)).to.deep.equal([0, 1, 0, 1, 0, 1]);
    expect(c.bars[1]!.x).to.be.above(c.bars[0]!.x);
    expect(c.bars[2]!.x).to.be.above(c.bars[1]!.x + c.bars[1]!.width - 1);
    expect(c.legend.map((l) => l.name)).to.deep.equal(['Defaults', 'Compensation']);
    expect(c.bars[1]!.tip).to.equal('SH · Compensation: ¥3');
  });

  it('draws a line through every point, higher for larger values', () => {
    const c = lineChart(base({ categories: ['2026-01', '2026-02', '2026-03', '2026-04'], series: [{ name: 'Pool', values: [100, 400, 250, 250] }] }));
    const dots = c.lines[0]!.dots;
    expect(dots).to.have.length(4);
    expect(c.lines[0]!.points.split(' ')).to.have.length(4);
    expect(dots[1]!.cy).to.be.below(dots[2]!.cy);
    expect(dots[2]!.cy).to.equal(dots[3]!.cy);
    expect(dots.map((d) => d.cx)).to.deep.equal(dots.map((d) => d.cx).sort((a, b) => a - b));
    expect(c.bars).to.deep.equal([]);
  });

  it('names the chart for assistive technology and tabulates exactly what it plots', () => {
    const c = barChart(base({ tableExtras: [{ header: 'Rate', cells: ['1%', '—', '2%'] }] }));
    expect(c).to.include({ titleId: 'chart-x-title', descId: 'chart-x-desc', title: 'Defaults' });
    expect(c.desc).to.equal('Bars of defaults. ↑ ¥300 (SH); ↓ ¥0 (JS).');
    expect(c.table.caption).to.equal('Defaults');
    expect(c.table.headers).to.deep.equal(['Province', 'Defaults', 'Rate']);
    expect(c.table.rows.map((r) => [r.label, ...r.cells.map((x) => x.text)])).to.deep.equal([['SH', '¥300', '1%'], ['JS', '¥0', '—'], ['ZJ', '¥150', '2%']]);
    expect(c.table.rows.map((r) => r.cells[0]!.value)).to.deep.equal([300, 0, 150]);
  });

  it('thins and cuts axis labels, but keeps them whole in the table', () => {
    const days = Array.from({ length: 60 }, (_, i) => `2026-03-${String(i + 1).padStart(2, '0')}`);
    const c = lineChart(base({ categories: days, series: [{ name: 'Pool', values: days.map((_, i) => i) }] }));
    const shown = c.xTicks.filter((x) => x.label);
    expect(shown.length).to.be.at.most(13);
    expect(shown.at(-1)!.full).to.equal(days.at(-1));
    const long = barChart(base({ categories: ['上海市浦东新区某某大学技术转移中心', 'B', 'C', 'D', 'E', 'F'], series: [{ name: 'D', values: [1, 2, 3, 4, 5, 6] }] }));
    expect(long.xTicks[0]!.label).to.equal('上海市浦东新区某某大学技术…');
    expect(long.xTicks[0]!.rotate).to.match(/^rotate\(-35 /);
    expect(long.table.rows[0]!.label).to.equal('上海市浦东新区某某大学技术转移中心');
    // Short labels with room to spare stay flat.
    expect(barChart(base()).xTicks.every((x) => x.rotate === '')).to.equal(true);
  });

  it('marks an empty chart and refuses input it would draw wrong', () => {
    const empty = barChart(base({ categories: [], series: [{ name: 'D', values: [] }] }));
    expect(empty).to.include({ empty: true, desc: 'Bars of defaults.' });
    expect(empty.bars).to.deep.equal([]);
    expect(() => barChart(base({ series: [{ name: 'D', values: [1, 2] }] }))).to.throw(/2 values for 3 categories/);
    expect(() => barChart(base({ series: [{ name: 'D', values: [1, Number.NaN, 2] }] }))).to.throw(/finite/);
    expect(() => barChart(base({ id: 'Chart X"' }))).to.throw(/chart id/);
  });
});
