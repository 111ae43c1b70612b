/**
 * Outgoing mail through nodemailer: SMTP when SMTP_URL is configured,
 * otherwise an outbox that writes each message as an .eml file (plus a small
 * JSON index entry) under DATA_DIR/outbox/, listed on an admin page. The
 * outbox lets a fresh install, and the tests, follow password resets and
 * invitations without a mail server.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface OutboxEntry {
  id: string;
  to: string;
  subject: string;
  sentAt: string;
  /** The plain text as written (the .eml holds it transfer-encoded, unreadable for Chinese). */
  text?: string;
}

export interface Mailer {
  readonly mode: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<void>;
  /** Newest first; empty in SMTP mode. */
  listOutbox(limit?: number): Promise<OutboxEntry[]>;
  /** The stored message (headers and text), or null. */
  readOutbox(id: string): Promise<{ entry: OutboxEntry; raw: string } | null>;
}

export function createMailer(options: { smtpUrl: string | null; outboxDir: string; from: string }): Mailer {
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport(options.smtpUrl);
    return {
      mode: 'smtp',
      async send(m) {
        await transport.sendMail({ from: options.from, ...m });
      },
      listOutbox: async () => [],
      readOutbox: async () => null,
    };
  }
  return outboxMailer(options.outboxDir, options.from);
}

function outboxMailer(dir: string, from: string): Mailer {
  const transport: Transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const idPattern = /^[0-9]{13}-[0-9a-f-]{36}$/;
  return {
    mode: 'outbox',
    async send(m) {
      const info = await transport.sendMail({ from, ...m });
      const id = `${Date.now()}-${randomUUID()}`;
      await fs.mkdir(dir, { recursive: true });
      const entry: OutboxEntry = { id, to: m.to, subject: m.subject, sentAt: new Date().toISOString(), text: m.text };
      await fs.writeFile(path.join(dir, `${id}.eml`), info.message as Buffer);
      await fs.writeFile(path.join(dir, `${id}.json`), JSON.stringify(entry));
    },
    async listOutbox(limit = 200) {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        return [];
      }
      const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort().reverse().slice(0, limit);
      const entries = await Promise.all(ids.map(async (id) => JSON.parse(await fs.readFile(path.join(dir, `${id}.json`), 'utf8')) as OutboxEntry));
      return entries;
    },
    async readOutbox(id) {
      // The id reaches the file system, so only our own id shape is accepted (no path traversal).
      if (!idPattern.test(id)) return null;
      try {
        const entry = JSON.parse(await fs.readFile(path.join(dir, `${id}.json`), 'utf8')) as OutboxEntry;
        const raw = await fs.readFile(path.join(dir, `${id}.eml`), 'utf8');
        return { entry, raw };
      } catch {
        return null;
      }
    },
  };
}
