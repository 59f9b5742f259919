// Package logstore is the storage engine of the embedded audit log
// (audit.Log): segments of framed, checksummed records committed in
// groups, the Merkle tree's stored hashes (golang.org/x/mod/sumdb/tlog),
// the table of fixed-size entries, the investigation index of immutable
// runs merged in the background, signed checkpoints, the state file,
// recovery after a crash, verification, proofs and the directory lock.
//
// It knows records only as bytes. Its narrow interface to the audit
// package: Append takes an event's JSON body, index keys and table entry
// fields (Pending); a Codec reads the same back from a record for
// recovery and Verify; readers get table entries, records, the seqs of
// an index key and proofs. The file layout and the guarantees are those
// the audit package documents.
package logstore
