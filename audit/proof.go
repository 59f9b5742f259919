package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"golang.org/x/mod/sumdb/tlog"
)

// InclusionProof proves that one event is in the log: its record, the
// Merkle audit path from the record's leaf to the root, and the signed
// checkpoint whose root hash that path reaches. VerifyInclusion checks it
// with nothing but the log's verifier key.
//
// It encodes to JSON as {"seq", "record" (base64), "hashes" (base64
// each), "checkpoint" (the signed note)}, for handing to a third party.
type InclusionProof struct {
	// Seq is the event's sequence number; its leaf index is Seq-1.
	Seq uint64
	// Record is the event's record exactly as stored: the leaf's data.
	Record []byte
	// Hashes is the audit path (tlog.RecordProof).
	Hashes []tlog.Hash
	// Checkpoint is the signed checkpoint the proof is against.
	Checkpoint []byte
}

// ConsistencyProof proves that a log of OldSize events is a prefix of the
// log at a later checkpoint: nothing that the older checkpoint covered
// was changed or removed since.
type ConsistencyProof struct {
	// OldSize is the size of the older checkpoint.
	OldSize uint64
	// Hashes is the proof (tlog.TreeProof).
	Hashes []tlog.Hash
	// Checkpoint is the newer signed checkpoint.
	Checkpoint []byte
}

// Prove returns an inclusion proof of the event seq against the latest
// checkpoint, signing a new checkpoint first when the latest does not
// cover seq.
//
// A proof carries the event's record: Prove is for the log's operator,
// whose reads are not themselves audited (anyone who can call it can read
// the files). Investigations go through Query.
func (l *Log) Prove(ctx context.Context, seq uint64) (*InclusionProof, error) {
	if err := l.usable(ctx); err != nil {
		return nil, err
	}
	rec, p, c, err := l.st.ProveRecord(ctx, seq)
	if err != nil {
		return nil, err
	}
	return &InclusionProof{Seq: seq, Record: rec, Hashes: p, Checkpoint: c.Signed}, nil
}

// ProveConsistency returns a proof that the log of oldSize events is a
// prefix of the log as it is now, at a checkpoint of everything written
// (signed first if the latest checkpoint is older).
func (l *Log) ProveConsistency(ctx context.Context, oldSize uint64) (*ConsistencyProof, error) {
	if err := l.usable(ctx); err != nil {
		return nil, err
	}
	p, c, err := l.st.ProveTree(ctx, oldSize)
	if err != nil {
		return nil, err
	}
	return &ConsistencyProof{OldSize: oldSize, Hashes: p, Checkpoint: c.Signed}, nil
}

// VerifyCheckpoint checks a checkpoint this log signed earlier, kept
// elsewhere, against the log as it is now: the signature must verify
// and the log must still hold exactly the events it covered.
func (l *Log) VerifyCheckpoint(ctx context.Context, signed []byte) error {
	if err := l.usable(ctx); err != nil {
		return err
	}
	old, err := OpenCheckpoint(l.VerifierKey(), signed)
	if err != nil {
		return err
	}
	p, err := l.ProveConsistency(ctx, old.Size)
	if err != nil {
		if old.Size > l.Size() {
			return tampered(fmt.Sprintf("a checkpoint covers %d events but the log holds %d", old.Size, l.Size()))
		}
		return err
	}
	if _, err := VerifyConsistency(l.VerifierKey(), signed, p); err != nil {
		return tampered(fmt.Sprintf("the log is not consistent with a checkpoint of %d events: %v", old.Size, err))
	}
	return nil
}

// VerifyInclusion checks an inclusion proof with only the log's verifier
// key: the checkpoint's signature, the record's place in the tree under
// the checkpoint's root hash, and that the record is the event Seq. It
// returns the event and the checkpoint.
func VerifyInclusion(vkey string, p *InclusionProof) (Event, Checkpoint, error) {
	if p == nil {
		return Event{}, Checkpoint{}, fmt.Errorf("%w: nil proof", ErrInvalidProof)
	}
	c, err := OpenCheckpoint(vkey, p.Checkpoint)
	if err != nil {
		return Event{}, Checkpoint{}, err
	}
	if p.Seq == 0 || p.Seq > c.Size {
		return Event{}, Checkpoint{}, fmt.Errorf("%w: seq %d is not covered by a checkpoint of %d events", ErrInvalidProof, p.Seq, c.Size)
	}
	if seq, ok := logstore.RecordSeq(p.Record); !ok || seq != p.Seq {
		return Event{}, Checkpoint{}, fmt.Errorf("%w: the record is not event %d", ErrInvalidProof, p.Seq)
	}
	if err := tlog.CheckRecord(p.Hashes, int64(c.Size), c.Hash, int64(p.Seq-1), tlog.RecordHash(p.Record)); err != nil {
		return Event{}, Checkpoint{}, fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	ev, err := decodeRecord(p.Record)
	if err != nil {
		return Event{}, Checkpoint{}, fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	return ev, c, nil
}

// VerifyConsistency checks, with only the log's verifier key, that the
// log at the proof's (newer) checkpoint extends the log at the older
// signed checkpoint without changing or removing anything. It returns
// the newer checkpoint.
func VerifyConsistency(vkey string, older []byte, p *ConsistencyProof) (Checkpoint, error) {
	if p == nil {
		return Checkpoint{}, fmt.Errorf("%w: nil proof", ErrInvalidProof)
	}
	old, err := OpenCheckpoint(vkey, older)
	if err != nil {
		return Checkpoint{}, err
	}
	newer, err := OpenCheckpoint(vkey, p.Checkpoint)
	if err != nil {
		return Checkpoint{}, err
	}
	switch {
	case p.OldSize != old.Size:
		return Checkpoint{}, fmt.Errorf("%w: the proof is for %d events, the older checkpoint covers %d", ErrInvalidProof, p.OldSize, old.Size)
	case old.Size > newer.Size:
		return Checkpoint{}, fmt.Errorf("%w: the newer checkpoint is smaller than the older", ErrInvalidProof)
	case old.Size == newer.Size:
		if old.Hash != newer.Hash || len(p.Hashes) != 0 {
			return Checkpoint{}, fmt.Errorf("%w: two checkpoints of the same size differ", ErrInvalidProof)
		}
	case old.Size == 0:
		// An empty log is a prefix of every log.
	default:
		if err := tlog.CheckTree(p.Hashes, int64(newer.Size), newer.Hash, int64(old.Size), old.Hash); err != nil {
			return Checkpoint{}, fmt.Errorf("%w: %v", ErrInvalidProof, err)
		}
	}
	return newer, nil
}

// proofJSON is what the JSON of both kinds of proof holds.
type proofJSON struct {
	Hashes     []string `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

func newProofJSON(hs []tlog.Hash, checkpoint []byte) proofJSON {
	return proofJSON{Hashes: encodeHashes(hs), Checkpoint: string(checkpoint)}
}

// unmarshalProof decodes data into j, whose proofJSON is common, and
// returns the hashes and checkpoint.
func unmarshalProof(data []byte, j any, common *proofJSON) ([]tlog.Hash, []byte, error) {
	if err := json.Unmarshal(data, j); err != nil {
		return nil, nil, err
	}
	hs, err := decodeHashes(common.Hashes)
	return hs, []byte(common.Checkpoint), err
}

type inclusionJSON struct {
	Seq    uint64 `json:"seq"`
	Record []byte `json:"record"`
	proofJSON
}

// MarshalJSON encodes the proof for a third party.
func (p InclusionProof) MarshalJSON() ([]byte, error) {
	return json.Marshal(inclusionJSON{Seq: p.Seq, Record: p.Record, proofJSON: newProofJSON(p.Hashes, p.Checkpoint)})
}

// UnmarshalJSON decodes a proof encoded by MarshalJSON.
func (p *InclusionProof) UnmarshalJSON(data []byte) error {
	var j inclusionJSON
	hs, c, err := unmarshalProof(data, &j, &j.proofJSON)
	if err != nil {
		return err
	}
	*p = InclusionProof{Seq: j.Seq, Record: j.Record, Hashes: hs, Checkpoint: c}
	return nil
}

type consistencyJSON struct {
	OldSize uint64 `json:"oldSize"`
	proofJSON
}

// MarshalJSON encodes the proof for a third party.
func (p ConsistencyProof) MarshalJSON() ([]byte, error) {
	return json.Marshal(consistencyJSON{OldSize: p.OldSize, proofJSON: newProofJSON(p.Hashes, p.Checkpoint)})
}

// UnmarshalJSON decodes a proof encoded by MarshalJSON.
func (p *ConsistencyProof) UnmarshalJSON(data []byte) error {
	var j consistencyJSON
	hs, c, err := unmarshalProof(data, &j, &j.proofJSON)
	if err != nil {
		return err
	}
	*p = ConsistencyProof{OldSize: j.OldSize, Hashes: hs, Checkpoint: c}
	return nil
}

func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func decodeHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("%w: malformed hash %d", ErrInvalidProof, i)
		}
		copy(out[i][:], b)
	}
	return out, nil
}
