/**
 * The process's in-memory search indexes, kept in step with the database.
 *
 * Neither MongoDB nor the embedded store segments Chinese, so full-text
 * search and matching run on our own BM25 indexes (server/search/). Each
 * app instance holds them in memory and syncs by `updatedAt`: a query first
 * reads what changed since the last sync (one indexed query, usually empty)
 * and applies it. Several instances behind a load balancer therefore agree
 * within one request of each other without any shared cache. Every change
 * that matters to search (patent edits, offers via `listing`, needs) bumps
 * `updatedAt`; view and enquiry counters deliberately don't.
 *
 * Clock skew between instances or a transaction committing a moment after a
 * later-stamped one could hide a change from the `updatedAt` watermark, so
 * the sync re-reads a short overlap window and a full rebuild runs in the
 * background every REBUILD_MS as a safety net. `npm start` builds them once
 * at start-up so the first visitor does not wait for the initial load.
 */
import type { Types } from 'mongoose';
import { Demand } from '../../models/demand.js';
import { Organization } from '../../models/organization.js';
import { Patent, type OfferKind, type PatentType } from '../../models/patent.js';
import type { SizeClass } from '../domain/sme-size.js';
import type { TechField } from '../domain/tech-fields.js';
import { NeedBoard, PatentCatalogue, type NeedForMatching } from '../search/matching.js';
import type { Region } from '../../models/organization.js';

const OVERLAP_MS = 5_000;
const REBUILD_MS = 10 * 60_000;

/** What the catalogue shows and filters on for one active patent. */
export interface CatalogueEntry {
  id: string;
  holder: string;
  holderZh: string;
  holderEn: string;
  titleZh: string;
  titleEn: string;
  problem: string;
  fields: TechField[];
  ipc: string[];
  /** IPC subclasses (first four characters), the catalogue's IPC facet. */
  ipcSubclasses: string[];
  region: Region;
  type: PatentType;
  trl: number | null;
  listed: boolean;
  kinds: OfferKind[];
  minEntryFeeFen: number | null;
  publishedAt: number;
  facets: Record<Facet, readonly string[]>;
}

export interface NeedEntry extends NeedForMatching {
  organization: string;
}

const PATENT_FIELDS = 'holder titleZh titleEn abstractZh abstractEn summary fields ipc region type trl status listing updatedAt';

class Indexes {
  catalogue = new PatentCatalogue();
  entries = new Map<string, CatalogueEntry>();
  board = new NeedBoard();
  needs = new Map<string, NeedEntry>();
  /** Holder organisation id → names, for the holder facet's labels. */
  holderNames = new Map<string, { zh: string; en: string }>();
  private builtAt = 0;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  /**
   * Brings the indexes up to date with everything committed before the call.
   * A sync already running may have read before our caller's write, so one
   * more is queued behind it (and shared by everyone who asks meanwhile).
   */
  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.syncOnce().finally(() => { this.running = null; });
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = null;
      return this.sync();
    });
    return this.queued;
  }

  /** Forgets everything (tests empty the database between cases). */
  reset(): void {
    this.catalogue = new PatentCatalogue();
    this.entries.clear();
    this.board = new NeedBoard();
    this.needs.clear();
    this.holderNames = new Map();
    this.lastSyncAt = null;
    this.patentVersions = new Map();
    this.needVersions = new Map();
    this.builtAt = 0;
  }

  private async syncOnce(): Promise<void> {
    if (this.builtAt && Date.now() - this.builtAt > REBUILD_MS) this.rebuildInBackground();
    if (!this.builtAt) this.builtAt = Date.now();
    const startedAt = new Date();
    await this.syncPatents();
    await this.syncNeeds();
    this.lastSyncAt = startedAt;
  }

  private rebuilding = false;

  /**
   * The safety-net rebuild: a fresh set of indexes is built aside and swapped
   * in when complete, so no request waits for a full load (seconds at tens
   * of thousands of patents). Changes made meanwhile are caught by the
   * fresh set's own overlap window on the next sync.
   */
  private rebuildInBackground(): void {
    if (this.rebuilding) return;
    this.rebuilding = true;
    this.builtAt = Date.now();
    const fresh = new Indexes();
    fresh.sync().then(() => {
      Object.assign(this, { catalogue: fresh.catalogue, entries: fresh.entries, board: fresh.board, needs: fresh.needs, holderNames: fresh.holderNames, lastSyncAt: fresh.lastSyncAt, patentVersions: fresh.patentVersions, needVersions: fresh.needVersions });
    }).catch(() => {
      // Keep serving the current indexes; the next sync after REBUILD_MS tries again.
    }).finally(() => {
      this.rebuilding = false;
    });
  }

  /** When the previous sync started: what is older than that minus the overlap has been seen. */
  private lastSyncAt: Date | null = null;
  /** updatedAt (ms) of what each index holds, so a re-read of an unchanged record costs nothing. */
  private patentVersions = new Map<string, number>();
  private needVersions = new Map<string, number>();

  /**
   * Reads what changed since the previous sync (less the overlap): first
   * only ids and stamps, then the full records that really changed — so the
   * overlap window after a bulk import re-reads stamps, not documents, and
   * never re-indexes.
   */
  private async changed<T>(model: typeof Patent | typeof Demand, versions: Map<string, number>, select: string): Promise<T[]> {
    const from = this.lastSyncAt && new Date(this.lastSyncAt.getTime() - OVERLAP_MS);
    if (!from) {
      const initial: Record<string, string> = model === Patent ? { status: 'active' } : { status: 'open' };
      return (await (model as typeof Patent).find(initial as never).select(select).lean()) as T[];
    }
    const heads = await (model as typeof Patent).find({ updatedAt: { $gte: from } }).select('_id updatedAt').lean();
    const ids = heads.filter((h) => versions.get(String(h._id)) !== h.updatedAt.getTime()).map((h) => h._id);
    if (!ids.length) return [];
    return (await (model as typeof Patent).find({ _id: { $in: ids } }).select(select).lean()) as T[];
  }

  private async syncPatents(): Promise<void> {
    type Row = Awaited<ReturnType<typeof loadPatents>>[number];
    const changed = await this.changed<Row>(Patent, this.patentVersions, PATENT_FIELDS);
    if (!changed.length) return;
    const holders = await orgNames(changed.map((p) => p.holder));
    for (const p of changed) {
      const id = String(p._id);
      this.patentVersions.set(id, p.updatedAt.getTime());
      if (p.status !== 'active') {
        this.catalogue.remove(id);
        this.entries.delete(id);
        continue;
      }
      const listing = { kinds: (p.listing?.kinds ?? []) as OfferKind[], minEntryFeeFen: p.listing?.minEntryFeeFen ?? null };
      const fields = p.fields as TechField[];
      this.catalogue.upsert({ id, titleZh: p.titleZh, titleEn: p.titleEn, abstractZh: p.abstractZh, abstractEn: p.abstractEn, summary: p.summary, fields, ipc: p.ipc, region: p.region, listing });
      const holder = holders.get(String(p.holder));
      const entry: Omit<CatalogueEntry, 'facets'> = {
        id, holder: String(p.holder), holderZh: holder?.nameZh ?? '', holderEn: holder?.nameEn ?? '',
        titleZh: p.titleZh, titleEn: p.titleEn ?? '', problem: p.summary?.problem ?? '',
        fields, ipc: p.ipc, ipcSubclasses: [...new Set(p.ipc.map((c) => c.slice(0, 4)))], region: p.region, type: p.type, trl: p.trl ?? null,
        listed: !!p.listing?.listed, kinds: listing.kinds, minEntryFeeFen: listing.minEntryFeeFen, publishedAt: p.listing?.publishedAt?.getTime() ?? 0,
      };
      this.entries.set(id, { ...entry, facets: facetValuesOf(entry) });
      this.holderNames.set(entry.holder, { zh: entry.holderZh, en: entry.holderEn });
    }
  }

  private async syncNeeds(): Promise<void> {
    type Row = Awaited<ReturnType<typeof loadNeeds>>[number];
    const changed = await this.changed<Row>(Demand, this.needVersions, '');
    if (!changed.length) return;
    const orgs = await Organization.find({ _id: { $in: [...new Set(changed.map((d) => String(d.organization)))] } }).select('enterprise.sizeClass').lean();
    const size = new Map(orgs.map((o) => [String(o._id), (o.enterprise?.sizeClass ?? null) as SizeClass | null]));
    for (const d of changed) {
      const id = String(d._id);
      this.needVersions.set(id, d.updatedAt.getTime());
      if (d.status !== 'open') {
        this.board.remove(id);
        this.needs.delete(id);
      } else {
        const need: NeedEntry = {
          id, organization: String(d.organization), title: d.title, problem: d.problem, fields: d.fields as TechField[],
          region: d.region, budgetFen: d.budgetFen ?? null, sizeClass: size.get(String(d.organization)) ?? null,
        };
        this.board.upsert(need);
        this.needs.set(id, need);
      }
    }
  }
}

/** The row shapes the syncs read (for typing only). */
const loadPatents = () => Patent.find().select(PATENT_FIELDS).lean();
const loadNeeds = () => Demand.find().lean();

/** Price bands on the lowest up-front payment, in fen (upper bound exclusive; null = no upper bound). */
export const PRICE_BANDS = {
  free: [0, 1],
  under_10k: [1, 1_000_000],
  '10k_100k': [1_000_000, 10_000_000],
  '100k_1m': [10_000_000, 100_000_000],
  over_1m: [100_000_000, null],
} as const satisfies Record<string, readonly [number, number | null]>;
export type PriceBand = keyof typeof PRICE_BANDS;

export const FACETS = ['fields', 'ipc', 'regions', 'kinds', 'types', 'price', 'holder'] as const;
export type Facet = (typeof FACETS)[number];

function bandOf(fee: number | null): PriceBand | null {
  if (fee === null) return null;
  for (const [band, [lo, hi]] of Object.entries(PRICE_BANDS) as [PriceBand, readonly [number, number | null]][]) {
    if (fee >= lo && (hi === null || fee < hi)) return band;
  }
  return null;
}

/** The values one entry contributes to each facet, computed once when it is indexed. */
function facetValuesOf(e: Omit<CatalogueEntry, 'facets'>): Record<Facet, readonly string[]> {
  const band = bandOf(e.minEntryFeeFen);
  return { fields: e.fields, ipc: e.ipcSubclasses, regions: [e.region], kinds: e.kinds, types: [e.type], price: band ? [band] : [], holder: [e.holder] };
}

async function orgNames(ids: Types.ObjectId[]) {
  const orgs = await Organization.find({ _id: { $in: [...new Set(ids.map(String))] } }).select('nameZh nameEn').lean();
  return new Map(orgs.map((o) => [String(o._id), o]));
}

/** One set of indexes per process. */
export const searchIndexes = new Indexes();
