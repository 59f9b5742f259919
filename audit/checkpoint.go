package audit

import "github.com/shcrkit/shcrkit/audit/internal/logstore"

// Checkpoint is a signed statement of a log's state: its origin (name),
// its size (the number of events, which is also the Seq of the last one)
// and the root hash of its Merkle tree at that size.
//
// Its text follows the transparency-log checkpoint format of the Go
// checksum database tree note (tlog.FormatTree), with the log's origin
// as the first line:
//
//	<origin>
//	<size, decimal>
//	<root hash, base64>
//
// and it is signed as a golang.org/x/mod/sumdb/note with the log's
// Ed25519 key. Anyone holding a copy of a checkpoint and the log's
// verifier key can later demand a consistency proof that the log still
// contains exactly what it contained then. Its fields: Origin (the log's
// name, also its signing key's), Size (the events covered), Hash (the
// Merkle tree root hash over them) and Signed (the signed note, what a
// third party keeps).
type Checkpoint = logstore.Checkpoint

// OpenCheckpoint verifies a signed checkpoint with the log's verifier key
// (a note verifier key, "name+hash+key", as returned by
// (*Log).VerifierKey) and returns it. It needs nothing but the key and
// the checkpoint's bytes, and accepts only the exact form a Log writes:
// one signature, by that key, canonically encoded; the origin must be the
// key's name. An error matches ErrInvalidProof.
func OpenCheckpoint(vkey string, signed []byte) (Checkpoint, error) {
	return logstore.OpenCheckpoint(vkey, signed)
}

// GenerateSigningKey generates an Ed25519 key pair for a log whose
// origin is name, in golang.org/x/mod/sumdb/note form: skey
// ("PRIVATE+KEY+...") is secret and goes to WithSigningKey; vkey is
// public and is all that a third party needs to verify checkpoints and
// proofs.
func GenerateSigningKey(name string) (skey, vkey string, err error) {
	return logstore.GenerateSigningKey(name)
}
