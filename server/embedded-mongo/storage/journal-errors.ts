/**
 * Errors the journal raises when it must refuse to start. Both are meant to
 * be shown to an operator as they are, so their messages say what happened
 * and what to do next.
 */

/** A journal file is damaged in a way that could hide acknowledged writes. */
export class JournalCorruptError extends Error {
  readonly path: string;
  /** Byte offset of the first damaged byte we could identify (0 for whole-file problems). */
  readonly offset: number;
  readonly detail: string;

  constructor(path: string, offset: number, detail: string, advice?: string) {
    super(
      `journal file ${path} is corrupt at byte offset ${offset}: ${detail}. `
      + (advice ?? 'Restore the data directory from a backup, or start with --repair (JournalOptions.repair) '
        + 'to copy the damaged file aside and truncate it at the last good record, losing the records after it.'),
    );
    this.name = 'JournalCorruptError';
    this.path = path;
    this.offset = offset;
    this.detail = detail;
  }
}

/** Another live process (or another Journal in this process) holds the data directory. */
export class JournalLockedError extends Error {
  readonly dir: string;
  readonly pid: number;
  readonly hostname: string;

  constructor(dir: string, pid: number, hostname: string, sameHost: boolean, lockPath: string) {
    super(
      sameHost
        ? `data directory ${dir} is in use by process ${pid}; stop it or choose another DATA_DIR`
        : `data directory ${dir} is in use by process ${pid} on host ${hostname}; stop it or choose another `
          + `DATA_DIR (if no process on ${hostname} uses it any more, delete ${lockPath})`,
    );
    this.name = 'JournalLockedError';
    this.dir = dir;
    this.pid = pid;
    this.hostname = hostname;
  }
}
