/**
 * The synthetic catalogue generator: same seed, same catalogue; valid
 * application numbers and dates; hidden labels alongside, never inside, the
 * patent; and SME needs in SME words.
 */
import { expect } from 'chai';
import { parseApplicationNumber } from '../../server/domain/patent-number.js';
import { computeExpiry } from '../../server/domain/patent-term.js';
import { isTechField } from '../../server/domain/tech-fields.js';
import { TOPICS, TOPIC_KEYS, generateNeeds, generatePatents } from '../../server/seed/patent-generator.js';

describe('synthetic patent generator', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(generatePatents(60, 7)).to.deep.equal(generatePatents(60, 7));
    expect(generateNeeds(30, 7)).to.deep.equal(generateNeeds(30, 7));
    expect(generatePatents(5, 8)[0]!.patent.titleZh + generatePatents(5, 8)[1]!.patent.abstractZh).not.to.equal(
      generatePatents(5, 7)[0]!.patent.titleZh + generatePatents(5, 7)[1]!.patent.abstractZh,
    );
  });

  it('writes well-formed patents with the topic as a separate label', () => {
    const asOf = new Date(Date.UTC(2026, 0, 1));
    const patents = generatePatents(TOPICS.length * 5, 3, { asOf });
    const numbers = new Set<string>();
    for (const { patent, topic } of patents) {
      expect(TOPIC_KEYS).to.include(topic);
      expect(patent).not.to.have.property('topic');
      const parsed = parseApplicationNumber(patent.applicationNumber, asOf);
      expect(parsed.ok, patent.applicationNumber).to.equal(true);
      numbers.add(patent.applicationNumber);
      expect(patent.expiryDate).to.deep.equal(computeExpiry(patent.filingDate, patent.type));
      expect(patent.filingDate.getUTCFullYear()).to.be.within(2012, 2025);
      expect(patent.titleZh.length).to.be.within(2, 200);
      expect(patent.fields.every(isTechField)).to.equal(true);
      expect(patent.ipc.length).to.be.at.least(1);
      expect(patent.inventors.length).to.be.within(2, 6);
      if (patent.type === 'invention') expect(patent.titleZh).to.match(/^一种/);
      if (patent.listing.kinds.includes('open') || patent.listing.kinds.includes('deferred')) {
        expect(patent.legalStatus).to.equal('granted');
        expect(patent.exclusiveLicence).to.equal('none');
      }
    }
    expect(numbers.size).to.equal(patents.length);
    // Every topic appears; most patents are granted inventions.
    expect(new Set(patents.map((p) => p.topic)).size).to.equal(TOPICS.length);
    const big = generatePatents(2_000, 11, { asOf }).map((p) => p.patent);
    expect(big.filter((p) => p.type === 'invention').length / big.length).to.be.above(0.75);
    expect(big.filter((p) => p.legalStatus === 'granted').length / big.length).to.be.above(0.6);
    expect(big.some((p) => p.pledged) && big.some((p) => p.exclusiveLicence !== 'none') && big.some((p) => p.legalStatus === 'lapsed')).to.equal(true);
    expect(big.some((p) => p.abstractEn !== '') && big.some((p) => p.abstractEn === '')).to.equal(true);
  });

  it('writes needs in SME language with hidden topic labels', () => {
    for (const { need, topics } of generateNeeds(TOPICS.length, 5)) {
      expect(topics.every((t) => TOPIC_KEYS.includes(t))).to.equal(true);
      expect(need.problem).not.to.match(/本发明|所述|一种/);
      expect(need.fields.every(isTechField)).to.equal(true);
      expect(['micro', 'small', 'medium', 'not_sme']).to.include(need.sizeClass);
    }
  });

  it('generates 20,000 patents in a few seconds', () => {
    const t0 = performance.now();
    expect(generatePatents(20_000, 1)).to.have.length(20_000);
    expect(performance.now() - t0).to.be.below(10_000);
  });
});
