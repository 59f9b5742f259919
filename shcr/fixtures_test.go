package shcr_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"iter"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/stretchr/testify/require"
)

// testRequester is a valid professional at an invented trust.
func testRequester() shcrkit.Requester {
	return shcrkit.Requester{
		UserID:           "555021935107",
		Name:             "Dr Amara Okafor",
		RoleProfileID:    "555021936108",
		RoleCode:         "S8000:G8000:R8000",
		Activities:       []string{"B0360", "B0380"},
		Organisation:     "RX1",
		OrganisationName: "Riverside Hospitals NHS Trust",
		System:           shcrkit.System{Name: "Riverside EPR", Version: "4.2", ASID: "200000000101"},
	}
}

const testNHS = shcrkit.NHSNumber("9434765919")

// testPointer builds an NRL pointer of our own making.
func testPointer(t testing.TB, id string, custodian shcrkit.ODSCode, url, contentType, asid string) nrls.Pointer {
	t.Helper()
	doc := map[string]any{
		"resourceType": "DocumentReference",
		"id":           id,
		"status":       "current",
		"type":         map[string]any{"coding": []any{map[string]any{"system": codesystem.SNOMED, "code": nrls.TypeMentalHealthCrisisPlan, "display": "Mental health crisis plan"}}},
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": codesystem.SNOMED, "code": "734163000", "display": "Care plan"}}}},
		"subject":      map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(testNHS)}},
		"custodian":    map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(custodian)}},
		"author":       []any{map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(custodian)}}},
		"content": []any{map[string]any{
			"attachment": map[string]any{"contentType": contentType, "url": url, "title": "Crisis plan"},
			"format":     map[string]any{"system": codesystem.NRLFormat, "code": "urn:nhs-ic:unstructured", "display": "Unstructured Document"},
		}},
	}
	if asid != "" {
		doc["context"] = map[string]any{"related": []any{map[string]any{"identifier": map[string]any{"system": codesystem.SpineASID, "value": asid}}}}
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	p, err := nrls.ParsePointer(b)
	require.NoError(t, err)
	return p
}

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
)

// testKeys returns an RSA and a P-256 key, made once per test binary.
func testKeys(t testing.TB) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
	})
	return rsaKey, ecKey
}

// untouchable is a listener that must never receive a connection: the
// test fails at cleanup if one arrived. It returns the listener's URL.
func untouchable(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var touched atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			touched.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		if n := touched.Load(); n > 0 {
			t.Errorf("the untouchable host received %d connection(s)", n)
		}
	})
	return "http://" + ln.Addr().String()
}

// failingSink passes events to next unless fail rejects them.
type failingSink struct {
	next audit.Sink
	fail func(audit.Event) error
}

func (s failingSink) Write(ctx context.Context, e audit.Event) error {
	if err := s.fail(e); err != nil {
		return err
	}
	return s.next.Write(ctx, e)
}

// failStep rejects the events of one journey step.
func failStep(step string) func(audit.Event) error {
	return func(e audit.Event) error {
		if stepOf(e) == step {
			return errors.New("audit store unreachable")
		}
		return nil
	}
}

// stepOf is the journey step an event records, read from what the event
// says it is: a decision (the boundary's, on the NRL search; a retrieval
// withheld before any request; a record's) or a call to PDS, the NRL or a
// shared care record.
// The steps of a journey, as AuditError.Step names them.
const (
	stepTrace     = "pds trace"
	stepBoundary  = "boundary decision"
	stepSearch    = "nrl search"
	stepDecision  = "record decision"
	stepRetrieval = "retrieval"
)

func stepOf(e audit.Event) string {
	switch {
	case e.Kind == audit.KindDecision && e.Service == audit.ServiceNRL:
		return stepBoundary
	case e.Kind == audit.KindDecision && strings.HasPrefix(e.Rule, "withheld/"):
		return stepRetrieval
	case e.Kind == audit.KindDecision:
		return stepDecision
	case e.Service == audit.ServicePDS:
		return stepTrace
	case e.Service == audit.ServiceNRL:
		return stepSearch
	}
	return stepRetrieval
}

// steps lists the steps of events in order, with the resource, e.g.
// "record decision DocumentReference/RNR-000001 refused".
func steps(events []audit.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = strings.Join(strings.Fields(stepOf(e)+" "+e.Resource+" "+string(e.Outcome)), " ")
	}
	return out
}

// resourceID is the id part of an event's Resource ("" when it names only
// a type).
func resourceID(e audit.Event) string {
	_, id, _ := strings.Cut(e.Resource, "/")
	return id
}

// eventsReader is an audit.Reader over events a Recorder holds, numbered
// in order as a log would number them.
type eventsReader []audit.Event

func (r eventsReader) Query(_ context.Context, _ shcrkit.Requester, f audit.Filter) iter.Seq2[audit.Event, error] {
	return func(yield func(audit.Event, error) bool) {
		for i, e := range r {
			e.Seq = uint64(i + 1)
			if f.Match(e) && !yield(e, nil) {
				return
			}
		}
	}
}
