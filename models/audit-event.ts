/**
 * Append-only record of every state change: who did what to which record,
 * when, and from which request. Nothing in the code updates or deletes these.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const auditEventSchema = new Schema(
  {
    at: { type: Date, required: true, default: () => new Date() },
    actor: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    actorEmail: { type: String, default: '' },
    organization: { type: Schema.Types.ObjectId, ref: 'Organization', default: null },
    action: { type: String, required: true },
    targetType: { type: String, required: true },
    targetId: { type: String, required: true },
    summary: { type: Schema.Types.Mixed, default: {} },
    requestId: { type: String, default: '' },
    ip: { type: String, default: '' },
  },
  { versionKey: false },
);

auditEventSchema.index({ at: -1 });
auditEventSchema.index({ action: 1, at: -1 });
auditEventSchema.index({ targetType: 1, targetId: 1, at: -1 });
auditEventSchema.index({ actor: 1, at: -1 });

export type AuditEventAttrs = InferSchemaType<typeof auditEventSchema>;
export const AuditEvent = mongoose.model('AuditEvent', auditEventSchema);
