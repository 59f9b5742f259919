package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
)

// thirdParty holds only what a third party would: the verifier key
// string and bytes received.
type thirdParty struct{ vkey string }

func (p thirdParty) checkInclusion(data []byte) (Event, Checkpoint, error) {
	var proof InclusionProof
	if err := json.Unmarshal(data, &proof); err != nil {
		return Event{}, Checkpoint{}, err
	}
	return VerifyInclusion(p.vkey, &proof)
}

func TestInclusionProof(t *testing.T) {
	ctx := context.Background()
	l := openTestLog(t, t.TempDir())
	var written []Event
	for i := 0; i < 13; i++ {
		e := readEvent(t0, clinician(), patientA)
		e.RequestID = "req-" + string(rune('a'+i))
		written = append(written, e)
		writeAll(t, l, e)
	}
	tp := thirdParty{vkey: l.VerifierKey()}
	for _, seq := range []uint64{1, 2, 7, 12, 13} {
		p, err := l.Prove(ctx, seq)
		require.NoError(t, err)
		data, err := json.Marshal(p)
		require.NoError(t, err)
		ev, c, err := tp.checkInclusion(data)
		require.NoError(t, err, "seq %d", seq)
		assert.Equal(t, seq, ev.Seq)
		assert.Equal(t, written[seq-1].RequestID, ev.RequestID)
		assert.Equal(t, uint64(13), c.Size)
	}

	_, err := l.Prove(ctx, 0)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = l.Prove(ctx, 14)
	assert.ErrorIs(t, err, ErrNotFound)

	good, err := l.Prove(ctx, 7)
	require.NoError(t, err)
	_, otherKey, err := GenerateSigningKey(l.st.Origin())
	require.NoError(t, err)
	tests := []struct {
		name   string
		vkey   string
		change func(p *InclusionProof)
	}{
		{"record changed", tp.vkey, func(p *InclusionProof) {
			p.Record = []byte(strings.Replace(string(p.Record), "req-g", "req-x", 1))
		}},
		{"claims another seq", tp.vkey, func(p *InclusionProof) { p.Seq = 8 }},
		{"seq beyond the checkpoint", tp.vkey, func(p *InclusionProof) { p.Seq = 99 }},
		{"path hash changed", tp.vkey, func(p *InclusionProof) { p.Hashes[1][0] ^= 1 }},
		{"path cut short", tp.vkey, func(p *InclusionProof) { p.Hashes = p.Hashes[:len(p.Hashes)-1] }},
		{"checkpoint changed", tp.vkey, func(p *InclusionProof) {
			p.Checkpoint = []byte(strings.Replace(string(p.Checkpoint), "\n13\n", "\n14\n", 1))
		}},
		{"another key", otherKey, func(*InclusionProof) {}},
		{"malformed key", "not-a-key", func(*InclusionProof) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := *good
			p.Record = append([]byte(nil), good.Record...)
			p.Hashes = append(p.Hashes[:0:0], good.Hashes...)
			tt.change(&p)
			_, _, err := VerifyInclusion(tt.vkey, &p)
			assert.ErrorIs(t, err, ErrInvalidProof)
		})
	}
	_, _, err = VerifyInclusion(tp.vkey, nil)
	assert.ErrorIs(t, err, ErrInvalidProof)
}

func TestProveSignsACheckpointWhenNeeded(t *testing.T) {
	ctx := context.Background()
	l := openTestLog(t, t.TempDir())
	writeAll(t, l, readEvent(t0, clinician(), patientA))
	c, err := l.SignCheckpoint(ctx)
	require.NoError(t, err)
	writeAll(t, l, readEvent(t0, clinician(), patientB))
	p, err := l.Prove(ctx, 2)
	require.NoError(t, err)
	_, pc, err := VerifyInclusion(l.VerifierKey(), p)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), pc.Size)
	assert.NotEqual(t, c.Signed, pc.Signed)
}

func TestConsistencyProof(t *testing.T) {
	ctx := context.Background()
	skey, vkey, err := GenerateSigningKey("riverside.audit")
	require.NoError(t, err)
	l := openTestLog(t, t.TempDir(), WithSigningKey(skey))
	for i := 0; i < 3; i++ {
		writeAll(t, l, readEvent(t0, clinician(), patientA))
	}
	old, err := l.SignCheckpoint(ctx)
	require.NoError(t, err)
	for i := 0; i < 8; i++ {
		writeAll(t, l, readEvent(t0, nurse(), patientB))
	}
	p, err := l.ProveConsistency(ctx, old.Size)
	require.NoError(t, err)
	data, err := json.Marshal(p)
	require.NoError(t, err)
	var received ConsistencyProof
	require.NoError(t, json.Unmarshal(data, &received))
	newer, err := VerifyConsistency(vkey, old.Signed, &received)
	require.NoError(t, err)
	assert.Equal(t, uint64(11), newer.Size)
	require.NoError(t, l.VerifyCheckpoint(ctx, old.Signed))

	t.Run("same size", func(t *testing.T) {
		cur, err := l.SignCheckpoint(ctx)
		require.NoError(t, err)
		p, err := l.ProveConsistency(ctx, cur.Size)
		require.NoError(t, err)
		_, err = VerifyConsistency(vkey, cur.Signed, p)
		require.NoError(t, err)
	})
	t.Run("forged proof", func(t *testing.T) {
		bad := *p
		bad.Hashes = append(bad.Hashes[:0:0], p.Hashes...)
		bad.Hashes[0][3] ^= 1
		_, err := VerifyConsistency(vkey, old.Signed, &bad)
		assert.ErrorIs(t, err, ErrInvalidProof)
		wrongSize := *p
		wrongSize.OldSize = 2
		_, err = VerifyConsistency(vkey, old.Signed, &wrongSize)
		assert.ErrorIs(t, err, ErrInvalidProof)
		_, err = VerifyConsistency(vkey, old.Signed, nil)
		assert.ErrorIs(t, err, ErrInvalidProof)
	})

	// A log rewritten from the start (same key, different history) cannot
	// prove itself consistent with a checkpoint of the original.
	t.Run("rewritten history", func(t *testing.T) {
		forged := openTestLog(t, t.TempDir(), WithSigningKey(skey))
		for i := 0; i < 11; i++ {
			writeAll(t, forged, readEvent(t0, nurse(), patientC))
		}
		fp, err := forged.ProveConsistency(ctx, old.Size)
		require.NoError(t, err)
		_, err = VerifyConsistency(vkey, old.Signed, fp)
		assert.ErrorIs(t, err, ErrInvalidProof)
		assert.ErrorIs(t, forged.VerifyCheckpoint(ctx, old.Signed), ErrTampered)
	})
	t.Run("a checkpoint beyond the log", func(t *testing.T) {
		short := openTestLog(t, t.TempDir(), WithSigningKey(skey))
		writeAll(t, short, readEvent(t0, nurse(), patientC))
		assert.ErrorIs(t, short.VerifyCheckpoint(ctx, old.Signed), ErrTampered)
	})
}

func TestOpenCheckpointStrict(t *testing.T) {
	skey, vkey, err := GenerateSigningKey("riverside.audit")
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	sign := func(text string) []byte {
		b, err := note.Sign(&note.Note{Text: text}, signer)
		require.NoError(t, err)
		return b
	}
	hash := base64.StdEncoding.EncodeToString(make([]byte, 32))
	good := sign("riverside.audit\n5\n" + hash + "\n")
	c, err := OpenCheckpoint(vkey, good)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), c.Size)

	sigLine := string(good[strings.LastIndex(string(good[:len(good)-1]), "\n")+1:])
	tests := map[string][]byte{
		"leading zero in size":   sign("riverside.audit\n05\n" + hash + "\n"),
		"short hash":             sign("riverside.audit\n5\nAAAA\n"),
		"extra line":             sign("riverside.audit\n5\n" + hash + "\nmore\n"),
		"another origin":         sign("hilltop.audit\n5\n" + hash + "\n"),
		"signature line doubled": append(append([]byte(nil), good...), sigLine...),
		"not a note":             []byte("hello"),
	}
	for name, signed := range tests {
		_, err := OpenCheckpoint(vkey, signed)
		assert.ErrorIs(t, err, ErrInvalidProof, name)
	}
	// A base64 signature whose unused low bits were changed decodes to
	// the same bytes; it is still refused.
	sig := strings.TrimSuffix(sigLine, "\n")
	i := strings.LastIndexAny(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	pos := strings.IndexByte(alphabet, sig[i])
	mangled := sig[:i] + string(alphabet[pos^1]) + sig[i+1:]
	changed := []byte(strings.Replace(string(good), sig, mangled, 1))
	_, err = OpenCheckpoint(vkey, changed)
	assert.ErrorIs(t, err, ErrInvalidProof)
}
