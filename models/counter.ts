/**
 * Named sequences (announcement numbers and the like): one document per
 * name, incremented atomically, so numbers are unique without a scan and
 * without a read-then-write race.
 */
import mongoose, { Schema, type ClientSession } from 'mongoose';

const counterSchema = new Schema({ _id: { type: String, required: true }, value: { type: Number, default: 0 } }, { versionKey: false });

export const Counter = mongoose.model('Counter', counterSchema);

/** The next value of `name` (1, 2, 3 …), inside `session` when given so an aborted transaction takes its number back. */
export async function nextValue(name: string, session?: ClientSession): Promise<number> {
  const doc = await Counter.findOneAndUpdate({ _id: name }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after', session });
  return doc!.value;
}
