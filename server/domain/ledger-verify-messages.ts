/**
 * What the verifier can find wrong, as codes with an English sentence each
 * (the CLI prints these; the console shows the same codes from the
 * dictionaries, checkpoints.problem.<code>, with the same {placeholders}).
 * Every sentence names the seq at fault where there is one.
 */
export const PROBLEM_MESSAGES = {
  malformed: 'Transfer {seq} is malformed: {reason}.',
  seq_gap: 'Transfer {missing} is missing: the journal jumps to {found} (seqs {missing}–{to} absent).',
  seq_order: 'Transfer {seq} is out of order: it comes after transfer {after}.',
  hash: 'Transfer {seq} was altered: its hash does not match its contents.',
  prev_hash: 'Transfer {seq} is not the record transfer {next} chained to: it was rewritten (or replaced) after {next} was posted.',
  genesis: 'Transfer 1 does not start from the genesis hash.',
  no_entries: 'Transfer {seq} has fewer than two legs.',
  bad_amount: 'Transfer {seq}, leg {leg}: the amount {amount} is not a whole, positive number of fen.',
  bad_side: 'Transfer {seq}, leg {leg}: a leg must be a debit or a credit.',
  unknown_account: 'Transfer {seq} posts to {account}, which is not in the chart of accounts.',
  unbalanced: 'Transfer {seq} does not balance: debits {debits} fen, credits {credits} fen.',
  bad_code: 'Transfer {seq} has code {code} and phase {phase}, which the ledger does not use.',
  bad_links: 'Transfer {seq} links to another transfer in a way the ledger never writes (pendingSeq/reverses do not fit its phase and code).',
  pending_missing: 'Transfer {seq} resolves transfer {pending}, which is not an earlier pending transfer.',
  pending_twice: 'Transfer {seq} resolves pending transfer {pending} a second time.',
  resolve_mismatch: 'Transfer {seq} does not match the legs or code of pending transfer {pending} it resolves.',
  reverse_missing: 'Transfer {seq} reverses transfer {reverses}, which is not an earlier posted transfer that can be reversed.',
  reverse_twice: 'Transfer {seq} reverses transfer {reverses} a second time.',
  reverse_mismatch: 'Transfer {seq} is not the mirror image of transfer {reverses} it reverses.',
  negative_total: 'After transfer {seq}, a total of {account} is below zero.',
  constraint: 'Transfer {seq} breaks the balance floor of {account} by {shortFen} fen.',
  totals_unbalanced: 'Total debits ({debits} posted, {debitsPending} pending) differ from total credits ({credits} posted, {creditsPending} pending).',
  checkpoint_malformed: 'The checkpoint at seq {seq} is malformed: {reason}.',
  checkpoint_ledger: 'The checkpoint at seq {seq} is for ledger {ledger}, not this one.',
  checkpoint_key_id: 'The checkpoint at seq {seq} names key {keyId}, but its public key has another id.',
  checkpoint_untrusted_key: 'The checkpoint at seq {seq} is signed with key {keyId}, which is not a key you trust.',
  checkpoint_no_key: 'The checkpoint at seq {seq} is signed with key {keyId}, which the export does not carry.',
  checkpoint_signature: 'The checkpoint at seq {seq} has an invalid signature for key {keyId} (forged or altered).',
  checkpoint_root: 'The journal no longer matches the checkpoint signed at seq {seq}: the Merkle root differs, so a record among seqs {from}–{to} was changed, removed or inserted.',
  checkpoint_head: 'The head hash at seq {seq} differs from the one signed in its checkpoint.',
  checkpoint_order: 'The checkpoint at seq {seq} ({time}) was issued before an earlier-seq checkpoint ({earlier}): the journal was cut back between them.',
  checkpoint_beyond: 'Transfer {seq} is missing: a checkpoint signed {signed} transfers but the journal ends at {last}.',
  through_seq: 'The export says it runs through seq {through} but its transfers end at {last}.',
  header_format: 'The export header names {format}; this verifier reads yrd-fund-ledger/1 exports of the CNY ledger.',
  bad_key: 'A public key ({which}) is not an Ed25519 public key in PEM form.',
  account_mismatch: 'Account {account}: the stored {field} is {stored} but the journal gives {replayed}.',
  account_missing: 'Account {account} has movements in the journal but no stored totals.',
} as const;

export type ProblemCode = keyof typeof PROBLEM_MESSAGES;

export const PROBLEM_CODES = Object.keys(PROBLEM_MESSAGES) as ProblemCode[];
