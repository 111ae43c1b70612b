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
  private patentMark: Date | null = null;
  private needMark: Date | null = null;
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
    this.patentMark = this.needMark = null;
    this.builtAt = 0;
  }

  private async syncOnce(): Promise<void> {
    if (this.builtAt && Date.now() - this.builtAt > REBUILD_MS) this.rebuildInBackground();
    if (!this.builtAt) this.builtAt = Date.now();
    await this.syncPatents();
    await this.syncNeeds();
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
      Object.assign(this, { catalogue: fresh.catalogue, entries: fresh.entries, board: fresh.board, needs: fresh.needs, patentMark: fresh.patentMark, needMark: fresh.needMark });
    }).catch(() => {
      // Keep serving the current indexes; the next sync after REBUILD_MS tries again.
    }).finally(() => {
      this.rebuilding = false;
    });
  }

  private async syncPatents(): Promise<void> {
    const since = this.patentMark && new Date(this.patentMark.getTime() - OVERLAP_MS);
    const changed = await Patent.find(since ? { updatedAt: { $gte: since } } : { status: 'active' }).select(PATENT_FIELDS).lean();
    if (!changed.length) return;
    const holders = await orgNames(changed.map((p) => p.holder));
    for (const p of changed) {
      const id = String(p._id);
      if (p.status !== 'active') {
        this.catalogue.remove(id);
        this.entries.delete(id);
        continue;
      }
      const listing = { kinds: (p.listing?.kinds ?? []) as OfferKind[], minEntryFeeFen: p.listing?.minEntryFeeFen ?? null };
      const fields = p.fields as TechField[];
      this.catalogue.upsert({ id, titleZh: p.titleZh, titleEn: p.titleEn, abstractZh: p.abstractZh, abstractEn: p.abstractEn, summary: p.summary, fields, ipc: p.ipc, region: p.region, listing });
      const holder = holders.get(String(p.holder));
      this.entries.set(id, {
        id, holder: String(p.holder), holderZh: holder?.nameZh ?? '', holderEn: holder?.nameEn ?? '',
        titleZh: p.titleZh, titleEn: p.titleEn ?? '', problem: p.summary?.problem ?? '',
        fields, ipc: p.ipc, ipcSubclasses: [...new Set(p.ipc.map((c) => c.slice(0, 4)))], region: p.region, type: p.type, trl: p.trl ?? null,
        listed: !!p.listing?.listed, kinds: listing.kinds, minEntryFeeFen: listing.minEntryFeeFen, publishedAt: p.listing?.publishedAt?.getTime() ?? 0,
      });
      if (!this.patentMark || p.updatedAt > this.patentMark) this.patentMark = p.updatedAt;
    }
  }

  private async syncNeeds(): Promise<void> {
    const since = this.needMark && new Date(this.needMark.getTime() - OVERLAP_MS);
    const changed = await Demand.find(since ? { updatedAt: { $gte: since } } : { status: 'open' }).lean();
    if (!changed.length) return;
    const orgs = await Organization.find({ _id: { $in: [...new Set(changed.map((d) => String(d.organization)))] } }).select('enterprise.sizeClass').lean();
    const size = new Map(orgs.map((o) => [String(o._id), (o.enterprise?.sizeClass ?? null) as SizeClass | null]));
    for (const d of changed) {
      const id = String(d._id);
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
      if (!this.needMark || d.updatedAt > this.needMark) this.needMark = d.updatedAt;
    }
  }
}

async function orgNames(ids: Types.ObjectId[]) {
  const orgs = await Organization.find({ _id: { $in: [...new Set(ids.map(String))] } }).select('nameZh nameEn').lean();
  return new Map(orgs.map((o) => [String(o._id), o]));
}

/** One set of indexes per process. */
export const searchIndexes = new Indexes();
