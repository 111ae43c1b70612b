/**
 * An SME's enquiry about a listed patent: an in-app message to the holder's
 * TTO (also e-mailed). The TTO's inbox lists them; reading marks them read.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const enquirySchema = new Schema(
  {
    patent: { type: Schema.Types.ObjectId, ref: 'Patent', required: true },
    offer: { type: Schema.Types.ObjectId, ref: 'Offer', default: null },
    fromOrg: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    fromUser: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    toOrg: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    message: { type: String, required: true, trim: true, maxlength: 2000 },
    readAt: { type: Date, default: null },
  },
  { timestamps: true },
);

enquirySchema.index({ toOrg: 1, createdAt: -1 });
enquirySchema.index({ fromOrg: 1, createdAt: -1 });

export type EnquiryAttrs = InferSchemaType<typeof enquirySchema>;
export const Enquiry = mongoose.model('Enquiry', enquirySchema);
