package attack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newWorld(t *testing.T) *shcrtest.World {
	t.Helper()
	w, err := shcrtest.NewWorld()
	require.NoError(t, err)
	t.Cleanup(w.Close)
	return w
}

func encounter(w *shcrtest.World) shcr.Request {
	return shcr.Request{Requester: w.Requester, NHSNumber: pdstest.Patients.Normal, Purpose: shcrkit.PurposeDirectCare,
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "ED-ATTENDANCE-20260601-0042"}}
}

// ackSink keeps the events it acknowledged; it panics on its panicAt-th
// write (counting from 1), or never when panicAt is 0.
type ackSink struct {
	panicAt int64
	n       atomic.Int64
	mu      sync.Mutex
	acked   []audit.Event
	broke   *audit.Event // the event whose write panicked
}

func (s *ackSink) Write(_ context.Context, e audit.Event) error {
	if s.n.Add(1) == s.panicAt {
		s.mu.Lock()
		c := e.Clone()
		s.broke = &c
		s.mu.Unlock()
		panic(fmt.Sprintf("sink broke writing %s for %s", e.Reason, e.Patient))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acked = append(s.acked, e.Clone())
	return nil
}

func (s *ackSink) events() []audit.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]audit.Event(nil), s.acked...)
}

// pointerOf is the pointer ID an event of the journey is about (a
// decision on it, or its retrieval), or "" for the trace, the boundary
// decision and the search.
func pointerOf(e audit.Event) string {
	if strings.HasPrefix(e.Resource, "DocumentReference/") {
		return resourceID(e)
	}
	return ""
}

// isRetrieval reports whether e records a retrieval.
func isRetrieval(e audit.Event) bool {
	return pointerOf(e) != "" && strings.HasPrefix(e.Reason, "retrieved")
}

// withheldUnlessAudited reports whether every record handed back has an
// acknowledged retrieval event.
func withheldUnlessAudited(res *shcr.Result, acked []audit.Event) bool {
	if res == nil {
		return true
	}
	for _, r := range res.Records {
		found := false
		for _, e := range acked {
			found = found || (isRetrieval(e) && pointerOf(e) == r.Pointer.ID)
		}
		if !found {
			return false
		}
	}
	return true
}

// sinkFunc is a Sink made of a function, so that a nil one is a typed nil
// of a kind other than a pointer.
type sinkFunc func(context.Context, audit.Event) error

func (f sinkFunc) Write(ctx context.Context, e audit.Event) error { return f(ctx, e) }

// TestTypedNilSinksRefused: a nil sink in any disguise is refused when
// the client is built, not found at the first access.
func TestTypedNilSinksRefused(t *testing.T) {
	const promise = "typed-nil sinks refused by shcr.New"
	w := newWorld(t)
	var (
		nilLog  *audit.Log
		nilAck  *ackSink
		nilFunc sinkFunc
	)
	sinks := map[string]audit.Sink{
		"nil": nil, "nil *Log": nilLog, "nil pointer of another sink type": nilAck, "nil func sink": nilFunc,
		"Multi()": audit.Multi(), "Multi with a nil *Log": audit.Multi(&ackSink{}, nilLog),
		"nested Multi with a nil *Log": audit.Multi(&ackSink{}, audit.Multi(nilLog)),
		"Multi with nil":               audit.Multi(&ackSink{}, nil),
	}
	for name, s := range sinks {
		_, err := w.Client(s)
		attempt(promise, err != nil)
		assert.Error(t, err, name)
	}
	report(t, promise)
}

// TestPanickingSinkAtEveryStep: a sink that panics, at each write of a
// whole journey in turn, directly and inside Multi's goroutines. The
// process must go on, and no record may come back whose retrieval was not
// acknowledged by the sink.
func TestPanickingSinkAtEveryStep(t *testing.T) {
	const promise = "panicking sinks recovered; unaudited data withheld"
	w := newWorld(t)
	count := &ackSink{}
	c, err := w.Client(count)
	require.NoError(t, err)
	res, err := c.Records(context.Background(), encounter(w))
	require.NoError(t, err)
	normal := len(res.Records)
	require.NotZero(t, normal)
	res.Close()
	writes := count.n.Load()
	require.Greater(t, writes, int64(5))
	for k := int64(1); k <= writes; k++ {
		for _, inMulti := range []bool{false, true} {
			s := &ackSink{panicAt: k}
			var sink audit.Sink = s
			if inMulti {
				sink = audit.Multi(s, &ackSink{})
			}
			c, err := w.Client(sink)
			require.NoError(t, err)
			res, err := c.Records(context.Background(), encounter(w))
			held := withheldUnlessAudited(res, s.events())
			// The data the broken write covered is withheld: the pointer
			// of a decision or retrieval event, everything for a trace,
			// boundary or search event.
			if err == nil {
				s.mu.Lock()
				broke := s.broke
				s.mu.Unlock()
				held = held && broke != nil
				if broke != nil {
					if id := pointerOf(*broke); id != "" {
						for _, r := range res.Records {
							held = held && r.Pointer.ID != id
						}
					} else {
						held = held && len(res.Records) == 0
					}
				}
				res.Close()
			}
			attempt(promise, held)
			assert.True(t, held, "write %d (in Multi: %v)", k, inMulti)
		}
	}
	report(t, promise)
}

// TestHostileCodesInJourney: PDS, the NRL and every regional ShCR answer
// errors whose codes and displays carry NHS numbers, tokens and query
// strings. Nothing of it may reach the audit events' free-text fields
// (error code, reason, rule, endpoint), the errors or the log.
func TestHostileCodesInJourney(t *testing.T) {
	const promise = "hostile codes leak nothing into audit fields, errors or logs"
	for _, status := range []int{400, 403, 404, 422, 500} {
		for _, where := range []string{"pds", "nrl", "regions"} {
			t.Run(fmt.Sprintf("%s/%d", where, status), func(t *testing.T) {
				w := newWorld(t)
				f := shcrtest.Fault{Status: status, Code: hostileText("")}
				switch where {
				case "pds":
					w.PDS.InjectFault("", "", -1, f)
				case "nrl":
					w.NRL.InjectFault("", "", -1, f)
				default:
					for _, r := range w.Regions {
						r.InjectFault("", "", -1, f)
					}
				}
				logger, logs := newLogger()
				s := &ackSink{}
				c, err := w.Client(s, func(cfg *shcr.Config) { cfg.Logger = logger })
				require.NoError(t, err)
				res, err := c.Records(context.Background(), encounter(w))
				var text []string
				text = append(text, errText(err), logs.String())
				if res != nil {
					for _, f := range res.Failures {
						text = append(text, f.Error())
					}
					res.Close()
				}
				for _, e := range s.events() {
					text = append(text, e.ErrorCode, e.Reason, e.Rule, e.Endpoint)
				}
				leaked := leaks(strings.Join(text, "\n"))
				attempt(promise, len(leaked) == 0 && len(s.events()) > 0)
				assert.Empty(t, leaked)
				assert.NotEmpty(t, s.events())
			})
		}
	}
	report(t, promise)
}

// resourceID is the id part of an event's Resource ("" when it names only
// a type).
func resourceID(e audit.Event) string {
	_, id, _ := strings.Cut(e.Resource, "/")
	return id
}
