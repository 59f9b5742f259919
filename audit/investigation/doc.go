// Package investigation is what a privacy officer and a patient do with
// an audit trail, over any audit.Reader (the embedded audit.Log or a
// postgres.Store); every read it makes is itself audited, as every
// Query is.
//
// # Access reports
//
// QueryAccessReport tells a patient who looked at their record, when,
// why and what, refused attempts included, as data (AccessReport) and as
// Markdown.
//
// # Review flags
//
// QueryReview flags what a
// privacy officer should look at: break-glass access, self-claimed
// relationships, ad hoc sharing, refused attempts, access out of hours,
// a user looking at a patient with their own surname, a user's day far
// above their usual volume, and, with what the trail does not hold
// (ReviewConfig's callbacks), a user's own record, a relative or
// neighbour, repeated access after discharge and access with no later
// recorded care. Each flag names its events by sequence number.
//
// # Cases
//
// A Casebook records investigations and patients' challenges as audit
// events (audit.Investigation) written to the same trail, each naming the
// events it concerns, so that an investigation is as tamper-evident as
// the accesses it is about.
//
// # Concurrency
//
// Every exported type is safe for concurrent use; a Casebook is as safe
// as the Sink and Reader it is given.
package investigation
