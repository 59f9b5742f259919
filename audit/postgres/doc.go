// Package postgres keeps the audit trail in PostgreSQL, for an
// application that runs as many instances, or several applications that
// share one trail: every instance opens a Store on the same database and
// schema and writes to it at once. A Store is an audit.Sink and an
// audit.Reader, with the tamper evidence of the embedded audit.Log: the
// same records, Merkle tree, signed checkpoints and proofs, so
// audit.VerifyInclusion and audit.VerifyConsistency check its proofs with
// the public key alone, and the reports, review flags and casebook of
// audit/investigation work over it unchanged.
//
// # Writing
//
// Write returns once the event is committed and the WAL that holds it is
// flushed to disk (synchronous_commit is set on every connection,
// whatever the server's default). Each Store has one writer goroutine
// with a connection of its own: the events that
// arrive while a transaction commits go together into the next one, as
// one multi-row insert, so the number of transactions (and WAL flushes)
// stays flat as writers are added and throughput grows with them. The
// writers of a batch are answered together and come back together, so
// before it starts a batch the writer waits, briefly (at most half a
// commit, and a millisecond), for as many events as the last batch had:
// the store commits one full batch at a time rather than two halves in
// turn.
//
// Each batch's transaction takes a transaction-scoped advisory lock (the
// append lock of the schema), reads the last row, numbers its events on
// from it, hashes them into the tree and inserts them; the lock is
// released when the transaction ends, so sequence numbers are assigned
// by the database's order of commits, across every instance, with no gap
// and no duplicate (a rolled-back batch leaves no number used). When one
// is due (WithCheckpointInterval) the batch also inserts a checkpoint of
// the new tree, signed in the same transaction.
//
// The batch's COMMIT waits for the disk before the lock is released, so
// the lock is held for two round trips and one WAL flush, and a batch's
// writers are answered only once it is durable. (An earlier design
// committed without waiting and flushed the WAL from a second connection;
// a crash mid-stream lost acknowledged events with it, which the restart
// fault test now guards against.) A checkpoint is handed out (Prove,
// Checkpoint, WithCheckpointFunc) only once durable.
//
// # Tables
//
// In the schema (WithSchema, default shcrkit_audit):
//
//	events        one row per event: seq, the record (the Merkle leaf's
//	              data, as audit.AppendRecord writes it), the tlog stored
//	              hashes that leaf adds, the frontier on a batch's last
//	              row, and copies of the fields queries select on
//	              (patient, user, organisation, custodian, time, ...),
//	              indexed
//	checkpoints   the signed checkpoints, by size
//	log_info      the log's origin and verifier key (and its signing key
//	              when the store generated it)
//	schema_version the migrations applied
//
// Open creates the schema, or migrates it, in one transaction under an
// advisory lock (two instances starting at once are safe); Migrate does
// the same for a deployment step. Triggers refuse UPDATE and DELETE on
// events, checkpoints and log_info, and TRUNCATE on the first two, to
// everyone (the owner too); with WithAppRole the application's
// role is granted SELECT and INSERT and nothing else.
//
// # Tamper evidence
//
// Verify reads every row in one snapshot and checks the numbering, each
// record against its row's columns, the stored hashes and frontiers, and
// every checkpoint's signature and root hash: a changed, deleted,
// inserted or reordered row is found. As for the embedded log, whoever
// holds the signing key and can write the tables could rewrite the whole
// trail and sign it afresh; a copy of the checkpoints kept elsewhere
// (WithCheckpointFunc, VerifyCheckpoint) turns that into a detectable
// inconsistency, and a signing key given with WithSigningKey is not
// stored in the database at all.
//
// # Failures
//
// A Write that fails was not committed: ErrUnavailable (the database
// could not be reached or the connection dropped before the commit),
// ErrTimeout (the statement timeout, WithStatementTimeout, ran out, for
// example waiting for the append lock), ErrDiskFull (the database has no
// space). If the connection drops after the COMMIT was sent, the writer
// reconnects and looks for the batch before answering; if it cannot tell
// it answers ErrInDoubt. In every case the caller must treat the event as
// not recorded and hand back no data. The store does not stop after a
// failure: the next write tries again, on a new connection if need be.
// Queries use a pool of their own (WithMaxConns), so readers cannot
// starve writers; when the pool has no free connection before the
// query's context ends, the query fails with ErrUnavailable.
package postgres
