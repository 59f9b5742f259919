package pdstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/pds"
)

// checkPatient is the patient CheckClient adds to the server it checks, to
// update without disturbing the seed population (SyntheticNHSNumber(5000)).
const checkPatient shcrkit.NHSNumber = "9490054992"

// CheckClient runs c, a client of s, through the behaviour of the service
// and returns every way in which it falls short, joined into one error;
// nil means c conforms. s must hold the seed population's well-known
// patients; c must allow at least two attempts per request (the default)
// and be configured for the access mode s serves (WithAccessMode), as a
// client is for the mode its application was onboarded with.
//
// It checks: get (fields, version and ETag, superseded, restricted, very
// restricted, deceased, invalidated, redacted and unknown numbers), the
// X-Request-ID (a UUID, fresh per call, kept on a retry, taken from
// shcrkit.WithRequestID) and X-Correlation-ID headers, search (exact
// matches first, empty results, too many matches, refusals of invalid
// queries before sending), related persons, the limits of the access
// mode and, in healthcare worker mode, updates (the
// {"patches": [...]} body, If-Match, version mismatch, removal with a
// test, re-sending a timed-out update). It adds a patient of its own,
// SyntheticNHSNumber(5000), to s and injects faults into it, so use a
// server of its own.
func CheckClient(ctx context.Context, s *Server, c *pds.Client) error {
	k := &checker{ctx: ctx, s: s, c: c}
	for _, nhs := range []shcrkit.NHSNumber{Patients.Normal, Patients.Restricted, Patients.VeryRestricted, Patients.Deceased, Patients.Surviving} {
		if _, _, ok := s.Record(nhs); !ok {
			return fmt.Errorf("pdstest: CheckClient needs the well-known patients; the server lacks %s", nhs.Masked())
		}
	}
	k.checkGet()
	k.checkGetErrors()
	k.checkHeaders()
	k.checkRetry()
	k.checkSearch()
	k.checkRelated()
	if s.cfg.mode == pds.AccessHealthcareWorker {
		k.checkUpdate()
	} else {
		k.checkRestrictedMode()
	}
	return errors.Join(k.errs...)
}

type checker struct {
	ctx  context.Context
	s    *Server
	c    *pds.Client
	errs []error
}

func (k *checker) fail(format string, args ...any) {
	k.errs = append(k.errs, fmt.Errorf("pdstest: "+format, args...))
}

// sent returns the requests received since mark, a count of requests.
func (k *checker) sent(mark int) []fake.Request {
	reqs := k.s.Requests()
	if mark > len(reqs) {
		return nil
	}
	return reqs[mark:]
}

func (k *checker) checkGet() {
	if !k.checkGetNormal() {
		return
	}
	k.checkGetFlagged()
}

// checkGetNormal checks the get of an ordinary patient, and reports
// whether the get succeeded.
func (k *checker) checkGetNormal() bool {
	mark := len(k.s.Requests())
	p, err := k.c.Get(k.ctx, Patients.Normal)
	if err != nil {
		k.fail("get of a patient: %v", err)
		return false
	}
	k.checkNormalPatient(p)
	reqs := k.sent(mark)
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != basePath+"/Patient/"+Patients.Normal.String() {
		k.fail("get of a patient: want one GET of /Patient/{id}, got %d requests", len(reqs))
	}
	return true
}

// checkNormalPatient checks that p is the ordinary patient as recorded.
func (k *checker) checkNormalPatient(p *pds.Patient) {
	person := personOf(Patients.Normal)
	_, version, _ := k.s.Record(Patients.Normal)
	if p.NHSNumber() != Patients.Normal || p.Superseded() != "" {
		k.fail("get of a patient: wrong NHS number or a superseded number reported")
	}
	if p.Version() != version {
		k.fail("get of a patient: version %q, want %q", p.Version(), version)
	}
	if p.Confidentiality() != shcrkit.ConfidentialityUnrestricted {
		k.fail("get of a patient: confidentiality %s, want U and not restricted", p.Confidentiality())
	}
	if n, ok := p.UsualName(); !ok || n.Family != person.Family || !slices.Equal(n.Given, person.Given) {
		k.fail("get of a patient: usual name not as recorded")
	}
	if p.BirthDate() != person.BirthDate || p.Gender() != string(person.Gender) || p.GPPractice() != person.GP {
		k.fail("get of a patient: birth date, gender or GP not as recorded")
	}
	if a, ok := p.HomeAddress(); !ok || a.PostalCode != person.Postcode {
		k.fail("get of a patient: home address not as recorded")
	}
	if _, dead := p.Deceased(); len(p.Telecom()) == 0 || dead {
		k.fail("get of a patient: telecom missing or patient reported deceased")
	}
}

// checkGetFlagged checks the gets of restricted, very restricted,
// superseded and deceased patients.
func (k *checker) checkGetFlagged() {
	if p, err := k.c.Get(k.ctx, Patients.Restricted); err != nil {
		k.fail("get of a restricted patient: %v", err)
	} else {
		_, hasAddr := p.HomeAddress()
		if p.Confidentiality() != shcrkit.ConfidentialityRestricted || hasAddr || p.GPPractice() != "" || len(p.Telecom()) != 0 {
			k.fail("get of a restricted patient: not flagged, or location data present")
		}
	}
	if p, err := k.c.Get(k.ctx, Patients.VeryRestricted); err != nil {
		k.fail("get of a very restricted patient: %v", err)
	} else if p.Confidentiality() != shcrkit.ConfidentialityVeryRestricted {
		k.fail("get of a very restricted patient: confidentiality %s, want V", p.Confidentiality())
	}
	if p, err := k.c.Get(k.ctx, Patients.Superseded); err != nil {
		k.fail("get of a superseded number: %v", err)
	} else if p.NHSNumber() != Patients.Surviving || p.Superseded() != Patients.Superseded {
		k.fail("get of a superseded number: the surviving number and the superseded one are not both reported")
	}
	if p, err := k.c.Get(k.ctx, Patients.Deceased); err != nil {
		k.fail("get of a deceased patient: %v", err)
	} else if date, dead := p.Deceased(); !dead || date != personOf(Patients.Deceased).DeathDate {
		k.fail("get of a deceased patient: date of death not reported")
	}
}

func (k *checker) checkGetErrors() {
	mark := len(k.s.Requests())
	_, err := k.c.Get(k.ctx, Patients.Invalidated)
	if !errors.Is(err, shcrkit.ErrInvalidated) || !errors.Is(err, shcrkit.ErrNotFound) {
		k.fail("get of an invalidated number: want ErrInvalidated and ErrNotFound, got %v", err)
	}
	if err != nil && strings.Contains(err.Error(), Patients.Invalidated.String()) {
		k.fail("get of an invalidated number: the error text contains the NHS number")
	}
	var apiErr *shcrkit.APIError
	reqs := k.sent(mark)
	if !errors.As(err, &apiErr) || apiErr.Code != "INVALIDATED_RESOURCE" || apiErr.StatusCode != http.StatusNotFound {
		k.fail("get of an invalidated number: want an *shcrkit.APIError with 404 INVALIDATED_RESOURCE")
	} else if len(reqs) != 1 || apiErr.RequestID != reqs[0].Header.Get("X-Request-ID") {
		k.fail("get of an invalidated number: the error does not carry the X-Request-ID sent")
	}
	for _, nhs := range []shcrkit.NHSNumber{Patients.Redacted, Patients.Unknown} {
		if _, err := k.c.Get(k.ctx, nhs); !errors.Is(err, shcrkit.ErrNotFound) || errors.Is(err, shcrkit.ErrInvalidated) {
			k.fail("get of a redacted or unknown number: want ErrNotFound only, got %v", err)
		}
	}
	mark = len(k.s.Requests())
	if _, err := k.c.Get(k.ctx, shcrkit.NHSNumber("9490000010")); !errors.Is(err, shcrkit.ErrInvalidNHSNumber) {
		k.fail("get of an invalid NHS number: want ErrInvalidNHSNumber, got %v", err)
	}
	if len(k.sent(mark)) != 0 {
		k.fail("get of an invalid NHS number: a request was sent")
	}
}

func (k *checker) checkHeaders() {
	const corr = "check-correlation-7"
	const reqID = "6f1b5a52-2b0c-4a4b-9a0e-1c2d3e4f5a6b"
	mark := len(k.s.Requests())
	ctx := shcrkit.WithCorrelationID(k.ctx, corr)
	_, err1 := k.c.Get(ctx, Patients.Normal)
	_, err2 := k.c.Get(ctx, Patients.Normal)
	_, err3 := k.c.Get(shcrkit.WithRequestID(k.ctx, reqID), Patients.Normal)
	if err := errors.Join(err1, err2, err3); err != nil {
		k.fail("headers: %v", err)
		return
	}
	reqs := k.sent(mark)
	if len(reqs) != 3 {
		k.fail("headers: want 3 requests, got %d", len(reqs))
		return
	}
	a, b := reqs[0].Header.Get("X-Request-ID"), reqs[1].Header.Get("X-Request-ID")
	if !fake.IsUUID(a) || !fake.IsUUID(b) || a == b {
		k.fail("headers: X-Request-ID must be a fresh UUID per call")
	}
	if reqs[2].Header.Get("X-Request-ID") != reqID {
		k.fail("headers: the X-Request-ID of shcrkit.WithRequestID was not sent")
	}
	if reqs[0].Header.Get("X-Correlation-ID") != corr {
		k.fail("headers: the X-Correlation-ID of shcrkit.WithCorrelationID was not sent")
	}
	if k.s.cfg.Validate != nil && len(reqs[0].Header.Get("Authorization")) <= len("Bearer ") {
		k.fail("headers: the server checks tokens but no bearer token was sent")
	}
	for _, r := range reqs {
		if r.Status != http.StatusOK {
			k.fail("headers: the server answered %d", r.Status)
			break
		}
	}
}

func (k *checker) checkRetry() {
	mark := len(k.s.Requests())
	k.s.InjectFault(http.MethodGet, "/Patient/"+Patients.Normal.String(), 1,
		Fault{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE", RetryAfter: "0"})
	if _, err := k.c.Get(k.ctx, Patients.Normal); err != nil {
		k.fail("retry: a get answered 503 with Retry-After then 200 failed: %v", err)
	}
	reqs := k.sent(mark)
	if len(reqs) != 2 || reqs[0].Header.Get("X-Request-ID") != reqs[1].Header.Get("X-Request-ID") {
		k.fail("retry: want two attempts with the same X-Request-ID, got %d requests", len(reqs))
	}
	if len(reqs) == 0 {
		k.s.ClearFaults()
	}
}

func (k *checker) checkSearch() {
	born := pds.DateRange{From: personOf(Patients.Normal).BirthDate, To: personOf(Patients.Normal).BirthDate}
	ms, err := k.c.Search(k.ctx, pds.SearchQuery{Family: SharedSurname, Given: []string{"Amelia"}, BirthDate: born})
	switch {
	case err != nil:
		k.fail("search for one patient: %v", err)
	case len(ms) != 1 || ms[0].Patient.NHSNumber() != Patients.Normal || ms[0].Score != 1:
		k.fail("search for one patient: want Patients.Normal with score 1, got %d matches", len(ms))
	}
	ms, err = k.c.Search(k.ctx, pds.SearchQuery{Family: "Nobodyknows", BirthDate: born})
	if err != nil || ms == nil || len(ms) != 0 {
		k.fail("search with no match: want an empty slice and no error, got %v", err)
	}
	q := pds.SearchQuery{Family: SharedSurname, BirthDate: born}
	if k.s.cfg.mode == pds.AccessHealthcareWorker {
		q.MaxResults = 2
	}
	if _, err := k.c.Search(k.ctx, q); !errors.Is(err, pds.ErrTooManyMatches) {
		k.fail("search with too many matches: want ErrTooManyMatches, got %v", err)
	}
	if k.s.cfg.mode == pds.AccessHealthcareWorker {
		ms, err := k.c.Search(k.ctx, pds.SearchQuery{Family: SharedSurname, Given: []string{"Amelia"}, BirthDate: born, Fuzzy: true})
		if err != nil || len(ms) < 2 || ms[0].Patient.NHSNumber() != Patients.Normal ||
			!slices.IsSortedFunc(ms, func(a, b pds.Match) int { return cmpFloat(b.Score, a.Score) }) {
			k.fail("fuzzy search: want the exact match first and the rest by falling score (err %v)", err)
		}
	}
	mark := len(k.s.Requests())
	if _, err := k.c.Search(k.ctx, pds.SearchQuery{Family: "H*", BirthDate: born}); !errors.Is(err, pds.ErrInvalidSearch) {
		k.fail("search with a wildcard in the first two characters: want ErrInvalidSearch, got %v", err)
	}
	if _, err := k.c.Search(k.ctx, pds.SearchQuery{Family: SharedSurname}); !errors.Is(err, pds.ErrInvalidSearch) {
		k.fail("search without a date of birth: want ErrInvalidSearch, got %v", err)
	}
	if len(k.sent(mark)) != 0 {
		k.fail("invalid searches: requests were sent")
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (k *checker) checkRelated() {
	rs, err := k.c.RelatedPersons(k.ctx, Patients.Normal)
	if err != nil || len(rs) != len(personOf(Patients.Normal).Related) {
		k.fail("related persons: want %d, got %d (%v)", len(personOf(Patients.Normal).Related), len(rs), err)
	} else if rs[0].NHSNumber() != personOf(Patients.Normal).Related[0].NHSNumber {
		k.fail("related persons: the linked NHS number is not reported")
	}
	rs, err = k.c.RelatedPersons(k.ctx, Patients.Restricted)
	if err != nil {
		k.fail("related persons of a restricted patient: %v", err)
	}
	for _, r := range rs {
		if len(r.Resource.Address) > 0 || len(r.Telecom()) > 0 {
			k.fail("related persons of a restricted patient: contact details present")
		}
	}
	if _, err := k.c.RelatedPersons(k.ctx, Patients.Unknown); !errors.Is(err, shcrkit.ErrNotFound) {
		k.fail("related persons of an unknown number: want ErrNotFound, got %v", err)
	}
}

func (k *checker) checkRestrictedMode() {
	mark := len(k.s.Requests())
	if _, err := k.c.Update(k.ctx, Patients.Normal, "1", pds.PatchOp{Op: "replace", Path: "/gender", Value: "female"}); !errors.Is(err, pds.ErrAccessMode) {
		k.fail("application-restricted update: want ErrAccessMode, got %v", err)
	}
	q := pds.SearchQuery{Family: SharedSurname, BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-03-14"}, MaxResults: 5}
	if _, err := k.c.Search(k.ctx, q); !errors.Is(err, pds.ErrAccessMode) {
		k.fail("application-restricted search for 5 results: want ErrAccessMode, got %v", err)
	}
	if len(k.sent(mark)) != 0 {
		k.fail("application-restricted refusals: requests were sent")
	}
}

func (k *checker) checkUpdate() {
	person := Person{NHSNumber: checkPatient, Given: []string{"Check"}, Family: "Patient", Gender: pds.GenderFemale,
		BirthDate: "1970-01-01", Phone: "01632 960999", Email: "check.patient@example.com", GP: "Y10001"}
	if err := k.s.AddPatient(person); err != nil {
		k.fail("update: adding the check patient: %v", err)
		return
	}
	p, err := k.c.Get(k.ctx, checkPatient)
	if err != nil {
		k.fail("update: get: %v", err)
		return
	}
	v := p.Version()
	mark := len(k.s.Requests())
	p2, err := k.c.Update(k.ctx, checkPatient, v, pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
	if err != nil {
		k.fail("update: %v", err)
		return
	}
	if p2.Gender() != "male" || p2.Version() != next(v) {
		k.fail("update: want gender male at version %s, got %q at %s", next(v), p2.Gender(), p2.Version())
	}
	if reqs := k.sent(mark); len(reqs) != 1 {
		k.fail("update: want one request, got %d", len(reqs))
	} else {
		r := reqs[0]
		var body struct {
			Patches []json.RawMessage `json:"patches"`
		}
		if r.Method != http.MethodPatch || r.Header.Get("If-Match") != `W/"`+v+`"` ||
			r.Header.Get("Content-Type") != "application/json-patch+json" ||
			json.Unmarshal(r.Body, &body) != nil || len(body.Patches) != 1 {
			k.fail(`update: want PATCH with If-Match W/"n", application/json-patch+json and a {"patches": [...]} body`)
		}
	}
	if _, err := k.c.Update(k.ctx, checkPatient, v, pds.PatchOp{Op: "replace", Path: "/gender", Value: "female"}); !errors.Is(err, shcrkit.ErrVersionMismatch) {
		k.fail("update with a stale version: want ErrVersionMismatch, got %v", err)
	}
	// The email is the second contact point; removing it needs a test.
	ops := pds.RemoveItem("/telecom", 1, telecomID(p2, "email"))
	p3, err := k.c.Update(k.ctx, checkPatient, p2.Version(), ops...)
	if err != nil {
		k.fail("update removing a contact point: %v", err)
		return
	}
	for _, t := range p3.Telecom() {
		if t.System == "email" {
			k.fail("update removing a contact point: still there")
		}
	}
	mark = len(k.s.Requests())
	k.s.InjectFault(http.MethodPatch, "/Patient/", 1, Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0", AfterServing: true})
	p4, err := k.c.Update(k.ctx, checkPatient, p3.Version(), pds.PatchOp{Op: "replace", Path: "/birthDate", Value: "1970-01-02"})
	reqs := k.sent(mark)
	switch {
	case err != nil:
		k.fail("update answered 503 with Retry-After: %v", err)
	case p4.Version() != next(p3.Version()):
		k.fail("update answered 503 with Retry-After: applied more than once (version %s)", p4.Version())
	case len(reqs) != 2 || reqs[0].Header.Get("X-Request-ID") != reqs[1].Header.Get("X-Request-ID"):
		k.fail("update answered 503 with Retry-After: want a re-send with the same X-Request-ID")
	}
}

func telecomID(p *pds.Patient, system string) string {
	for _, t := range p.Telecom() {
		if t.System == system {
			return t.ID
		}
	}
	return ""
}

func next(v string) string {
	n, _ := strconv.Atoi(v)
	return strconv.Itoa(n + 1)
}

// personOf is the seed person with number nhs, or a zero Person.
func personOf(nhs shcrkit.NHSNumber) Person {
	p, _ := synthetic.Find[pds.Gender](nhs)
	return p
}
