package logstore

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

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
// contains exactly what it contained then.
type Checkpoint struct {
	// Origin is the log's name; it is also the name of its signing key.
	Origin string
	// Size is the number of events covered.
	Size uint64
	// Hash is the Merkle tree root hash over the first Size events.
	Hash tlog.Hash
	// Signed is the signed note: the text followed by a blank line and
	// the signature line. It is what a third party keeps.
	Signed []byte
}

// Text returns the checkpoint's signed text (without the signature).
func (c Checkpoint) Text() string { return checkpointText(c.Origin, c.Size, c.Hash) }

func checkpointText(origin string, size uint64, h tlog.Hash) string {
	return origin + "\n" + strconv.FormatUint(size, 10) + "\n" + base64.StdEncoding.EncodeToString(h[:]) + "\n"
}

// parseCheckpointText parses the three lines strictly: canonical decimal,
// canonical base64 of exactly 32 bytes, nothing more.
func parseCheckpointText(text string) (origin string, size uint64, h tlog.Hash, err error) {
	fail := func(why string) (string, uint64, tlog.Hash, error) {
		return "", 0, tlog.Hash{}, fmt.Errorf("%w: malformed checkpoint: %s", ErrInvalidProof, why)
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return fail("want exactly three lines")
	}
	if !ValidKeyName(lines[0]) {
		return fail("bad origin")
	}
	size, perr := strconv.ParseUint(lines[1], 10, 64)
	if perr != nil || strconv.FormatUint(size, 10) != lines[1] {
		return fail("bad size")
	}
	raw, derr := base64.StdEncoding.Strict().DecodeString(lines[2])
	if derr != nil || len(raw) != tlog.HashSize || base64.StdEncoding.EncodeToString(raw) != lines[2] {
		return fail("bad root hash")
	}
	copy(h[:], raw)
	return lines[0], size, h, nil
}

// signCheckpoint signs a checkpoint for the given state.
func signCheckpoint(signer note.Signer, size uint64, h tlog.Hash) (Checkpoint, error) {
	origin := signer.Name()
	signed, err := note.Sign(&note.Note{Text: checkpointText(origin, size, h)}, signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: signing checkpoint: %w", err)
	}
	return Checkpoint{Origin: origin, Size: size, Hash: h, Signed: signed}, nil
}

// OpenCheckpoint verifies a signed checkpoint with the log's verifier key
// (a note verifier key, "name+hash+key", as returned by
// (*Store).VerifierKey) and returns it. It needs nothing but the key and
// the checkpoint's bytes, and accepts only the exact form a Log writes:
// one signature, by that key, canonically encoded; the origin must be the
// key's name.
func OpenCheckpoint(vkey string, signed []byte) (Checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: verifier key: %v", ErrInvalidProof, err)
	}
	return openCheckpoint(v, signed)
}

func openCheckpoint(v note.Verifier, signed []byte) (Checkpoint, error) {
	n, err := openCanonical(v, signed, "checkpoint")
	if err != nil {
		return Checkpoint{}, err
	}
	origin, size, h, err := parseCheckpointText(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint origin %q is not the key's name %q", ErrInvalidProof, origin, v.Name())
	}
	return Checkpoint{Origin: origin, Size: size, Hash: h, Signed: append([]byte(nil), signed...)}, nil
}

// openCanonical opens a note the log signed (what names it in errors):
// exactly one signature, by v, and the canonical bytes only. note.Open
// decodes base64 leniently and skips repeated lines, so that without the
// last check a byte of a stored note could change unnoticed.
func openCanonical(v note.Verifier, signed []byte, what string) (*note.Note, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("%w: %s signature: %v", ErrInvalidProof, what, err)
	}
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 0 {
		return nil, fmt.Errorf("%w: %s must carry exactly one signature", ErrInvalidProof, what)
	}
	sig := n.Sigs[0]
	raw, err := base64.StdEncoding.Strict().DecodeString(sig.Base64)
	if err != nil || base64.StdEncoding.EncodeToString(raw) != sig.Base64 {
		return nil, fmt.Errorf("%w: %s signature is not canonically encoded", ErrInvalidProof, what)
	}
	if !bytes.Equal(signed, []byte(n.Text+"\n— "+sig.Name+" "+sig.Base64+"\n")) {
		return nil, fmt.Errorf("%w: %s is not in canonical form", ErrInvalidProof, what)
	}
	return n, nil
}

// GenerateSigningKey generates an Ed25519 key pair for a log whose
// origin is name, in golang.org/x/mod/sumdb/note form: skey
// ("PRIVATE+KEY+...") is secret and goes to WithSigningKey; vkey is
// public and is all that a third party needs to verify checkpoints and
// proofs.
func GenerateSigningKey(name string) (skey, vkey string, err error) {
	if !ValidKeyName(name) {
		return "", "", fmt.Errorf("%w: key name %q must be non-empty printable text without spaces or '+'", ErrInvalidOption, name)
	}
	return note.GenerateKey(rand.Reader, name)
}

// verifierKeyFor derives the verifier key from a signer key, and checks
// that the signer key is written canonically.
func verifierKeyFor(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", fmt.Errorf("%w: malformed signing key", ErrInvalidOption)
	}
	name, hash16, key64 := parts[2], parts[3], parts[4]
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return "", fmt.Errorf("%w: malformed signing key", ErrInvalidOption)
	}
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("%w: signing key: %v", ErrInvalidOption, err)
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return "", fmt.Errorf("%w: signing key: %v", ErrInvalidOption, err)
	}
	// Re-encode and compare, so that an equivalent spelling (upper-case
	// hex, say) is not taken for the key that was stored.
	vhash := strings.SplitN(vkey, "+", 3)[1]
	canonical := fmt.Sprintf("PRIVATE+KEY+%s+%s+%s", name, vhash, base64.StdEncoding.EncodeToString(key))
	if canonical != skey || hash16 != vhash {
		return "", fmt.Errorf("%w: signing key is not in canonical form", ErrInvalidOption)
	}
	return vkey, nil
}

// ValidKeyName mirrors the note package's rule for key names.
func ValidKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 &&
		!strings.Contains(name, "+") && !strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// startPresync starts syncing the stored hashes and the table on a
// goroutine of its own, while commits go on (writer goroutine). A
// checkpoint must find them durable, and syncing them is most of its
// time; done beside the commits, it leaves the checkpoint, during which
// the commits wait, the writes of a moment to sync.
func (l *Store) startPresync() {
	done := make(chan error, 1)
	l.presync = done
	go func() {
		err := l.hashes.f.Sync()
		if err != nil {
			err = fmt.Errorf("syncing hashes: %w", err)
		} else if err = l.table.f.Sync(); err != nil {
			err = fmt.Errorf("syncing table: %w", err)
		}
		done <- err
	}()
}

// awaitPresync waits for a running presync and returns its error: a
// failed fsync is reported once per open file, so the sync that follows
// it on the same file could succeed without the data being durable, and
// the presync's failure must fail the checkpoint (writer goroutine).
func (l *Store) awaitPresync() error {
	if l.presync == nil {
		return nil
	}
	err := <-l.presync
	l.presync = nil
	return err
}
