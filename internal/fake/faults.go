package fake

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault is something going wrong on purpose. The zero Fault does nothing.
type Fault struct {
	// Latency delays the answer (the delay ends early if the client goes
	// away).
	Latency time.Duration
	// Status, when non-zero, answers with this status and an
	// OperationOutcome carrying Code (a Spine error code) instead of
	// serving the request.
	Status int
	// Code is the error code of the injected answer (a Spine error code,
	// or an OAuth error code from the token server).
	Code string
	// Diagnostics is the text of the injected answer; "" for a default.
	Diagnostics string
	// AfterServing, with a Status, serves the request first (whatever it
	// changes stays changed) and then answers with the error instead, as a
	// service that times out after doing the work does.
	AfterServing bool
	// RetryAfter, when non-empty, is sent as the Retry-After header.
	RetryAfter string
	// Truncate cuts the real answer's body to this many bytes while still
	// declaring its full length, as a dropped connection does.
	Truncate int
	// Hang never answers: the request is held until the client gives up or
	// the server closes.
	Hang bool
	// Reset drops the connection without an answer, as a peer that
	// crashed or a middlebox that reset it does.
	Reset bool
	// Drip sends the real answer's body one byte per Drip interval.
	Drip time.Duration
	// Oversize pads the answer's body with this many extra bytes of white
	// space.
	Oversize int
}

// rule is a fault for the requests matching a method and path prefix.
type rule struct {
	method, prefix string
	fault          Fault
	remaining      int // <0: for ever
}

// Faults holds the faults a fake injects. It is safe for concurrent use.
type Faults struct {
	mu    sync.Mutex
	rules []*rule
}

// Add injects f into the next n requests whose method matches (""
// matches any) and whose path starts with prefix ("" matches any); n < 0
// means every such request until Clear.
func (fs *Faults) Add(method, prefix string, n int, f Fault) {
	if n == 0 {
		return
	}
	fs.mu.Lock()
	fs.rules = append(fs.rules, &rule{method: method, prefix: prefix, fault: f, remaining: n})
	fs.mu.Unlock()
}

// Clear removes every injected fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	fs.rules = nil
	fs.mu.Unlock()
}

// take returns the fault for r, consuming one use of its rule.
func (fs *Faults) take(r *http.Request) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, ru := range fs.rules {
		if (ru.method == "" || ru.method == r.Method) && strings.HasPrefix(r.URL.Path, ru.prefix) {
			f := ru.fault
			if ru.remaining > 0 {
				ru.remaining--
				if ru.remaining == 0 {
					fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
				}
			}
			return f, true
		}
	}
	return Fault{}, false
}
