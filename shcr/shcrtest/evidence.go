package shcrtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/shcr"
)

// EvidenceStore is a fake of the records that back legitimate
// relationships at the requester's organisation (its PAS encounters, e-RS
// referrals and care teams): an shcr.EvidenceLookup held in memory, and
// through Handler the same records as a local FHIR server serves them
// (Encounter, ServiceRequest, CareTeam), for shcr.NewFHIREvidence.
//
// It differs from a real store in that it answers only reads by id and
// searches by subject:identifier, and everything it holds is visible to
// every caller. It is safe for concurrent use.
type EvidenceStore struct {
	mu      sync.Mutex
	records []shcr.Evidence
	err     error
	delay   time.Duration
}

// NewEvidenceStore returns a store holding records.
func NewEvidenceStore(records ...shcr.Evidence) (*EvidenceStore, error) {
	s := &EvidenceStore{}
	for _, r := range records {
		if err := s.Add(r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

var evidenceResourceTypes = map[shcrkit.RelationshipKind]string{
	shcrkit.RelationshipEncounter: "Encounter",
	shcrkit.RelationshipReferral:  "ServiceRequest",
	shcrkit.RelationshipCareTeam:  "CareTeam",
}

// Add stores a record. Its Reference must be "Type/id" with the type of
// its kind (Encounter, ServiceRequest, CareTeam) and be new.
func (s *EvidenceStore) Add(e shcr.Evidence) error {
	rt, ok := evidenceResourceTypes[e.Kind]
	typ, id, found := strings.Cut(e.Reference, "/")
	switch {
	case !ok:
		return fmt.Errorf("%w: no evidence of a %s relationship is held", shcrkit.ErrInvalidOption, e.Kind)
	case !found || typ != rt || id == "":
		return fmt.Errorf("%w: evidence of a %s relationship is referred to as %s/{id}, not %q", shcrkit.ErrInvalidOption, e.Kind, rt, e.Reference)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.records {
		if r.Reference == e.Reference {
			return fmt.Errorf("%w: %s is already held", shcrkit.ErrInvalidOption, e.Reference)
		}
	}
	e.Organisations = slices.Clone(e.Organisations)
	s.records = append(s.records, e)
	return nil
}

// SetError makes every lookup fail with err, as a store that is down;
// nil restores it.
func (s *EvidenceStore) SetError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// SetDelay makes every lookup take d before it answers (or until its
// context ends), as a slow store.
func (s *EvidenceStore) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// FindEvidence implements shcr.EvidenceLookup: the record of q.Kind that
// q.Reference names (as "Type/id" or the id alone), or the records of
// q.Kind for q.Patient.
func (s *EvidenceStore) FindEvidence(ctx context.Context, q shcr.EvidenceQuery) ([]shcr.Evidence, error) {
	s.mu.Lock()
	delay, err := s.delay, s.err
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return s.find(q.Kind, q.Reference, q.Patient), nil
}

func (s *EvidenceStore) find(kind shcrkit.RelationshipKind, ref string, patient shcrkit.NHSNumber) []shcr.Evidence {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []shcr.Evidence
	for _, r := range s.records {
		if r.Kind != kind {
			continue
		}
		if ref != "" {
			if _, id, _ := strings.Cut(r.Reference, "/"); r.Reference != ref && id != ref {
				continue
			}
		} else if r.Patient != patient {
			continue
		}
		r.Organisations = slices.Clone(r.Organisations)
		out = append(out, r)
	}
	return out
}

// Handler serves the records as FHIR R4 JSON: GET /{Type}/{id} and
// GET /{Type}?subject:identifier={system}|{nhs} (a searchset Bundle),
// with the store's error (500) and delay.
func (s *EvidenceStore) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		delay, failing := s.delay, s.err != nil
		s.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if failing {
			http.Error(w, "store unavailable", http.StatusInternalServerError)
			return
		}
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		typ, id, _ := strings.Cut(strings.Trim(r.URL.Path, "/"), "/")
		var kind shcrkit.RelationshipKind
		for k, rt := range evidenceResourceTypes {
			if rt == typ {
				kind = k
			}
		}
		if kind == shcrkit.RelationshipNone {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		if id != "" {
			found := s.find(kind, typ+"/"+id, "")
			if len(found) == 0 {
				http.NotFound(w, r)
				return
			}
			_ = json.NewEncoder(w).Encode(evidenceFHIR(found[0]))
			return
		}
		sys, value, _ := strings.Cut(r.URL.Query().Get("subject:identifier"), "|")
		nhs, err := shcrkit.ParseNHSNumber(value)
		if sys != codesystem.NHSNumber || err != nil {
			http.Error(w, "subject:identifier must name an NHS number", http.StatusBadRequest)
			return
		}
		bundle := map[string]any{"resourceType": "Bundle", "type": "searchset"}
		var entries []any
		for _, e := range s.find(kind, "", nhs) {
			entries = append(entries, map[string]any{"resource": evidenceFHIR(e)})
		}
		bundle["total"] = len(entries)
		bundle["entry"] = entries
		_ = json.NewEncoder(w).Encode(bundle)
	})
}

// evidenceFHIR renders a record as the FHIR resource of its kind.
func evidenceFHIR(e shcr.Evidence) map[string]any {
	typ, id, _ := strings.Cut(e.Reference, "/")
	status := e.Status
	if status == "" {
		status = map[bool]map[shcrkit.RelationshipKind]string{
			true:  {shcrkit.RelationshipEncounter: "in-progress", shcrkit.RelationshipReferral: "active", shcrkit.RelationshipCareTeam: "active"},
			false: {shcrkit.RelationshipEncounter: "cancelled", shcrkit.RelationshipReferral: "revoked", shcrkit.RelationshipCareTeam: "inactive"},
		}[e.Active][e.Kind]
	}
	res := map[string]any{"resourceType": typ, "id": id, "status": status,
		"subject": map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(e.Patient)}}}
	var orgs []any
	for _, o := range e.Organisations {
		orgs = append(orgs, map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(o)}})
	}
	period := map[string]any{}
	if !e.Start.IsZero() {
		period["start"] = e.Start.UTC().Format(time.RFC3339)
	}
	if !e.End.IsZero() {
		period["end"] = e.End.UTC().Format(time.RFC3339)
	}
	switch e.Kind {
	case shcrkit.RelationshipEncounter:
		if len(orgs) > 0 {
			res["serviceProvider"] = orgs[0]
		}
		res["period"] = period
	case shcrkit.RelationshipReferral:
		res["intent"] = "order"
		res["performer"] = orgs
		res["occurrencePeriod"] = period
	case shcrkit.RelationshipCareTeam:
		res["managingOrganization"] = orgs
		res["period"] = period
	}
	return res
}

var _ shcr.EvidenceLookup = (*EvidenceStore)(nil)
