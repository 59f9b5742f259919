// Package fhirevidence asks an organisation's own FHIR server for the
// Encounter, ServiceRequest or CareTeam that backs a claimed legitimate
// relationship (shcr.NewFHIREvidence).
package fhirevidence

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // FHIR dates are days in England

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// maxEvidenceBytes caps one answer of the local FHIR server.
const maxEvidenceBytes = 4 << 20

// Lookup asks the FHIR server at a base URL. It is safe for concurrent
// use.
type Lookup struct {
	base *url.URL
	hc   *http.Client
}

// New returns a Lookup against base (a checked http or https URL without
// a trailing slash) through hc, whose redirect policy it replaces with
// one that refuses another origin.
func New(base *url.URL, hc *http.Client) *Lookup {
	c := *hc
	c.CheckRedirect = fhirhttp.CheckRedirect
	return &Lookup{base: base, hc: &c}
}

// Query is what Find looks for: shcr.EvidenceQuery's fields.
type Query struct {
	Kind      shcrkit.RelationshipKind
	Patient   shcrkit.NHSNumber
	Reference string
	// Time at which the evidence must be in force: a care team's
	// participants whose own period does not cover it are left out. Zero
	// means now.
	Time time.Time
}

// Record is one record found, with shcr.Evidence's fields in its order,
// so that one converts to the other.
type Record struct {
	Kind          shcrkit.RelationshipKind
	Reference     string
	Patient       shcrkit.NHSNumber
	Organisations []shcrkit.ODSCode
	Start, End    time.Time
	Status        string
	Active        bool
}

// evidenceTypes are the FHIR resource types that back each kind.
var evidenceTypes = map[shcrkit.RelationshipKind]string{
	shcrkit.RelationshipEncounter: "Encounter",
	shcrkit.RelationshipReferral:  "ServiceRequest",
	shcrkit.RelationshipCareTeam:  "CareTeam",
}

// Find asks the server for the records of q.Kind that q names (or, when
// q.Reference is empty, those of q.Patient). A reference this server
// cannot hold, and an answer of 404 or 410, find nothing.
func (l *Lookup) Find(ctx context.Context, q Query) ([]Record, error) {
	rt, ok := evidenceTypes[q.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: no FHIR resource backs a %s relationship", shcrkit.ErrInvalidRequest, q.Kind)
	}
	u := *l.base
	if ref := strings.TrimSpace(q.Reference); ref != "" {
		typ, id, found := strings.Cut(ref, "/")
		if !found {
			typ, id = rt, ref
		}
		if typ != rt || !validFHIRID(id) {
			// Not a reference this server can hold: nothing backs it.
			return nil, nil
		}
		u.Path += "/" + rt + "/" + id
	} else {
		if !q.Patient.Valid() {
			return nil, fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, shcrkit.ErrInvalidNHSNumber)
		}
		u.Path += "/" + rt
		u.RawQuery = url.Values{"subject:identifier": {codesystem.NHSNumber + "|" + string(q.Patient)}, "_count": {"50"}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", fhirhttp.MediaFHIRJSON)
	if id := shcrkit.CorrelationID(ctx); id != "" {
		req.Header.Set("X-Correlation-ID", id)
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: evidence lookup: %s", shcrkit.ErrUnavailable, shcrkit.Redact(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEvidenceBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: evidence lookup: %s", shcrkit.ErrUnavailable, shcrkit.Redact(err.Error()))
	case len(body) > maxEvidenceBytes:
		return nil, fmt.Errorf("%w: evidence lookup answer over %d bytes", shcrkit.ErrResponseTooLarge, maxEvidenceBytes)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: evidence lookup answered HTTP %d", shcrkit.ErrUnavailable, resp.StatusCode)
	}
	var res evidenceResource
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("%w: evidence lookup: %w", shcrkit.ErrMalformedResponse, err)
	}
	var resources []evidenceResource
	switch res.ResourceType {
	case "Bundle":
		for _, e := range res.Entry {
			resources = append(resources, e.Resource)
		}
	case rt:
		resources = append(resources, res)
	default:
		return nil, fmt.Errorf("%w: evidence lookup answered a %q, not a %s", shcrkit.ErrMalformedResponse, shcrkit.Redact(res.ResourceType), rt)
	}
	var out []Record
	for _, r := range resources {
		if r.ResourceType != rt || !validFHIRID(r.ID) {
			continue
		}
		out = append(out, r.record(q.Kind, cmp.Or(q.Time, time.Now())))
	}
	return out, nil
}

// evidenceResource holds the elements of Encounter, ServiceRequest,
// CareTeam and Bundle that Find reads.
type evidenceResource struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	Subject      fhirReference   `json:"subject"`
	Period       fhirPeriod      `json:"period"`
	Occurrence   fhirPeriod      `json:"occurrencePeriod"`
	AuthoredOn   string          `json:"authoredOn"`
	Provider     fhirReference   `json:"serviceProvider"`
	Performer    []fhirReference `json:"performer"`
	Managing     []fhirReference `json:"managingOrganization"`
	Participant  []struct {
		Member     fhirReference `json:"member"`
		OnBehalfOf fhirReference `json:"onBehalfOf"`
		Period     fhirPeriod    `json:"period"`
	} `json:"participant"`
	Entry []struct {
		Resource evidenceResource `json:"resource"`
	} `json:"entry"`
}

type fhirReference struct {
	Reference  string `json:"reference"`
	Identifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
}

type fhirPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

func (r *evidenceResource) record(kind shcrkit.RelationshipKind, at time.Time) Record {
	e := Record{Kind: kind, Reference: r.ResourceType + "/" + r.ID, Status: r.Status}
	if r.Subject.Identifier.System == codesystem.NHSNumber {
		if n, err := shcrkit.ParseNHSNumber(r.Subject.Identifier.Value); err == nil {
			e.Patient = n
		}
	}
	var orgs []fhirReference
	period := r.Period
	switch kind {
	case shcrkit.RelationshipEncounter:
		orgs = []fhirReference{r.Provider}
		// Booked, attending or attended: a cancelled or mistaken one backs
		// nothing, nor does a finished one that does not say when it
		// ended (it would otherwise be open for ever).
		e.Active = r.Status != "" && r.Status != "cancelled" && r.Status != "entered-in-error" && r.Status != "unknown" &&
			(r.Status != "finished" || r.Period.End != "")
	case shcrkit.RelationshipReferral:
		orgs = r.Performer
		period = r.Occurrence
		if period.Start == "" {
			period.Start = r.AuthoredOn
		}
		e.Active = r.Status == "active"
	case shcrkit.RelationshipCareTeam:
		orgs = r.Managing
		for _, p := range r.Participant {
			// A participant counts only while its membership is in force.
			if periodCovers(p.Period, at) {
				orgs = append(orgs, p.Member, p.OnBehalfOf)
			}
		}
		e.Active = r.Status == "active"
	}
	for _, o := range orgs {
		if o.Identifier.System != codesystem.ODS {
			continue
		}
		if c, err := shcrkit.ParseODSCode(o.Identifier.Value); err == nil {
			e.Organisations = append(e.Organisations, c)
		}
	}
	var okStart, okEnd bool
	e.Start, okStart = Time(period.Start, false)
	e.End, okEnd = Time(period.End, true)
	if !okStart || !okEnd {
		// An unreadable bound is not an open one: fail closed.
		e.Active = false
		e.Status += " (period unreadable)"
	}
	return e
}

// periodCovers reports whether p (both bounds readable) is in force at t.
func periodCovers(p fhirPeriod, t time.Time) bool {
	start, okStart := Time(p.Start, false)
	end, okEnd := Time(p.End, true)
	return okStart && okEnd && (start.IsZero() || !t.Before(start)) && (end.IsZero() || t.Before(end))
}

// london is the zone of FHIR dates without a time, days in England.
var london = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
})

// Time reads a FHIR dateTime or date (YYYY, YYYY-MM, YYYY-MM-DD, a day in
// England, or a dateTime with its zone) as the instant a period starts
// or, when end is set, ends: a partial date that ends a period runs to
// the end of that year, month or day. "" is the zero time; ok is false
// when s is not empty and cannot be read.
func Time(s string, end bool) (t time.Time, ok bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, f := range []struct {
		layout  string
		y, m, d int
	}{{time.DateOnly, 0, 0, 1}, {"2006-01", 0, 1, 0}, {"2006", 1, 0, 0}} {
		if t, err := time.ParseInLocation(f.layout, s, london()); err == nil {
			if end {
				t = t.AddDate(f.y, f.m, f.d)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// validFHIRID accepts a FHIR logical id: 1 to 64 of A-Z a-z 0-9 - .
func validFHIRID(s string) bool {
	if len(s) == 0 || len(s) > 64 || strings.Trim(s, ".") == "" {
		// "." and ".." are dot-segments of a path, not ids.
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
