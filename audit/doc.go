// Package audit records every access to a patient's shared care record so
// that it can be investigated and challenged later: an event model, the
// Sink interface that every audit destination implements, an embedded
// tamper-evident log that needs no infrastructure, the mapping to FHIR R4
// AuditEvent, and the queries, reports and review flags that a privacy
// officer and a patient need.
//
// # Events
//
// An Event holds identifiers, never clinical content: who asked
// (shcrkit.Requester: user, role, organisation, calling system), on whose
// authority if not their own (OnBehalfOf), what they did (Action) to which
// service (Service) and resource (Resource, and the search in Query with
// the patient's NHS number kept once, in Patient), why (Purpose,
// Relationship and its evidence, BreakGlassReason), what decided it
// (Rule), how it ended (Outcome, ErrorCode, Reason), the request and
// correlation IDs and the custodian of the record. Refused and failed
// attempts are recorded in the same detail as successful ones. A log
// gives each event a sequence number (Seq) that grows by one whatever the
// clock says, so that clock tampering and removal show.
//
// # Sinks
//
// Sink has one method, Write, which returns only when the event is
// durable in that sink; a caller that gets an error hands back no data
// (fail closed). The implementations are the embedded Log; Multi, which
// writes to several sinks and succeeds only if all do; NewSlogSink, for
// operational logs (NHS numbers masked, so not an audit trail on its
// own); NewHTTPSink, which posts FHIR AuditEvents to a FHIR server, with
// retries and an at-least-once delivery caveat; and audittest.Recorder
// for tests. There is no no-op sink: auditing cannot be switched off.
//
// # The embedded log
//
// OpenLog(dir) keeps the audit trail in a directory:
//
//	segments/NNN.seg   events, as length-prefixed, CRC-32C-checked JSON records
//	hashes             the Merkle tree's stored hashes above the leaves (golang.org/x/mod/sumdb/tlog)
//	checkpoint         the latest signed checkpoint (origin, size, root hash)
//	state              the size of the latest stored checkpoint, how far the index runs reach; signed, written before the first event
//	signing.key        the Ed25519 signing key, unless WithSigningKey is given
//	verifier.key       the public key, for third parties
//	index/table        one fixed-size entry per event: where it is, when, what
//	index/run-*.idx    the investigation index: patient, user, organisation, custodian
//
// Concurrent writes are committed in groups: one write and one fsync for
// all the events waiting, and each Write returns after the fsync that
// covers it. Each event is a leaf of a Merkle tree whose hashes are
// stored beside the records (all but the leaf hashes, which the records
// give); every second of activity (and on Close) the log signs a
// checkpoint of the tree with its Ed25519 key, in the Go checksum
// database note format.
//
// A batch's entries go to index/table only after its fsync, and its
// events are acknowledged only after that: an intact table entry for an
// event that the segments no longer hold is an acknowledged event that
// has gone. After a crash OpenLog cuts a torn tail (a batch whose commit
// never reached the disk, never acknowledged), saves it under torn/ and
// reports it (Recovered); every event whose Write returned nil is still
// there. Anything else fails OpenLog with an *IntegrityError (matching
// ErrTampered) naming what is wrong, before any file is touched: a
// changed byte that OpenLog reads (keys, checkpoint, state, segment
// headers, the hashes under the checkpoint's root, the events after it);
// acknowledged events missing from the segments, cut or deleted; a
// checkpoint missing or older than the state file records (a log that
// never stored one opens without it, as NoCheckpoint); a state file
// missing from a log that holds events, or not signed by the log's key
// (so that deleting the checkpoint and the state cannot make a log cut
// short pass for one that crashed before its first checkpoint); an
// index run missing. Verify checks the rest. Hashes and table entries of events
// after the latest checkpoint are rebuilt from the records when they are
// short: a power failure can leave them so, and the records they derive
// from are intact.
//
// With WithCheckpointEveryCommit the log signs a checkpoint of every
// group commit and hands it to the WithCheckpointFunc witness before it
// acknowledges the commit's events, so that a copy kept elsewhere covers
// every acknowledged event.
//
// # Tamper evidence
//
// Verify checks every file against the records and the latest
// checkpoint, segments in parallel, reading of each record only the
// fields the table and the index hold: any changed, removed, reordered
// or inserted byte is found.
// Prove gives an inclusion proof of one event against a checkpoint, and
// ProveConsistency a proof that the log still extends an earlier
// checkpoint; VerifyInclusion and VerifyConsistency check them with
// nothing but the verifier key, so a third party can. A record is the
// event's JSON with "seq" and "recorded" first, exactly as stored; its
// leaf hash is tlog.RecordHash of those bytes, and Seq n is leaf n-1.
//
// What this protects against depends on where the checkpoints are kept.
// Whoever can write the directory and read signing.key could rewrite the
// whole log and sign it afresh; a checkpoint kept elsewhere
// (WithCheckpointFunc, or WithSigningKey with the key held outside the
// directory) turns that into a detectable inconsistency
// (VerifyCheckpoint). Events written after the latest checkpoint are
// durable but not yet signed.
//
// # FHIR
//
// ToFHIR maps an event to an R4 AuditEvent following the IHE Basic Audit
// Log Patterns: a call to a service with the RESTful patterns (Read,
// Query and their Patient forms), a local decision (Event.Kind) with the
// authorization-decision pattern. MarshalFHIR writes it with the
// OperationOutcome of a refusal or failure contained. ParseFHIR reads
// and checks AuditEvents against what R4 makes mandatory; DecodeFHIR maps them back to the Event
// they were made from. audittest.CheckBALP holds an AuditEvent to the
// BALP profile its type selects.
//
// # Investigation
//
// Query finds events by patient, user, organisation, custodian, time,
// outcome, purpose, action, service or correlation ID, through the index,
// never by reading the whole log. Reading the audit trail is itself
// audited: Query first writes an event for its reader. Reader is what
// every store implements; audit/investigation builds on it the patient's
// access report, the review flags for a privacy officer and the casebook
// of investigations, whose steps are events of the trail (Investigation)
// that name the events they concern.
//
// # Concurrency
//
// Every exported type is safe for concurrent use. A log directory is
// locked by the Log that has it open. The log's storage engine lives in
// audit/internal/logstore: one writer goroutine commits the events that
// callers queue, and readers read the files beside it.
package audit
