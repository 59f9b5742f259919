package rbac

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shcrkit/shcrkit"
)

// Holder holds the policy in force and lets it be replaced while the
// application runs. A replacement is atomic: a decision already made, or
// one made on a *Policy taken from Policy before the swap, finishes on the
// old policy; every Decide after it uses the new one. A policy that fails
// to load leaves the old one serving and the error is returned (by Reload,
// or passed to Watch's report).
//
// A Holder is safe for concurrent use; reloads are serialised.
type Holder struct {
	cur atomic.Pointer[Policy]

	mu  sync.Mutex        // serialises reloads
	sum [sha256.Size]byte // of the text last loaded, for Watch
}

// NewHolder returns a Holder serving p, which must not be nil.
func NewHolder(p *Policy) (*Holder, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: no policy to hold (nil)", ErrInvalidPolicy)
	}
	h := &Holder{}
	h.cur.Store(p)
	return h, nil
}

// Policy returns the policy in force. Hold on to it for the decisions of
// one user action so that they all use the same policy.
func (h *Holder) Policy() *Policy { return h.cur.Load() }

// SitesOf is Policy().SitesOf(org), so that a Holder is an
// shcr.SiteLister whose sites follow the policy in force.
func (h *Holder) SitesOf(org shcrkit.ODSCode) []shcrkit.ODSCode { return h.cur.Load().SitesOf(org) }

// Swap puts p in force and returns the policy it replaces; a nil p is
// refused and the old policy kept.
func (h *Holder) Swap(p *Policy) (*Policy, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: no policy to put in force (nil)", ErrInvalidPolicy)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur.Swap(p), nil
}

// Reload loads a policy from its YAML text and puts it in force. On error
// the policy in force stays and the error (matching ErrInvalidPolicy, with
// every problem) is returned.
func (h *Holder) Reload(text []byte) (*Policy, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reloadLocked(text)
}

func (h *Holder) reloadLocked(text []byte) (*Policy, error) {
	p, err := LoadPolicy(bytes.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("policy not replaced, the one in force stays: %w", err)
	}
	h.sum = sha256.Sum256(text)
	h.cur.Store(p)
	return p, nil
}

// Watch checks the file at path every interval and reloads the policy
// when its content changes, until ctx is done. Each reload's outcome is
// passed to report, when not nil: the new policy, or the error that left
// the old one serving (a file that cannot be read, a policy that does not
// load). The file's content when Watch starts is taken as the policy in
// force unless the Holder has loaded none from text. Watch returns ctx's
// error.
func (h *Holder) Watch(ctx context.Context, path string, interval time.Duration, report func(*Policy, error)) error {
	if ctx == nil {
		return fmt.Errorf("%w: nil context", shcrkit.ErrInvalidRequest)
	}
	if interval <= 0 {
		return fmt.Errorf("%w: watch interval must be positive", ErrInvalidPolicy)
	}
	if report == nil {
		report = func(*Policy, error) {}
	}
	h.mu.Lock()
	if h.sum == ([sha256.Size]byte{}) {
		if text, err := readPolicyFile(path); err == nil {
			h.sum = sha256.Sum256(text)
		}
	}
	h.mu.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	readFailing := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		text, err := readPolicyFile(path)
		if err != nil {
			// Report a file that cannot be read when it starts failing,
			// not every tick.
			if !readFailing {
				report(nil, err)
			}
			readFailing = true
			continue
		}
		readFailing = false
		h.mu.Lock()
		if sha256.Sum256(text) == h.sum {
			h.mu.Unlock()
			continue
		}
		p, err := h.reloadLocked(text)
		if err != nil {
			// Do not retry the same broken text every tick.
			h.sum = sha256.Sum256(text)
		}
		h.mu.Unlock()
		report(p, err)
	}
}

func readPolicyFile(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if len(text) > maxPolicyBytes {
		return nil, &PolicyError{Msg: fmt.Sprintf("larger than %d bytes", maxPolicyBytes)}
	}
	return text, nil
}
