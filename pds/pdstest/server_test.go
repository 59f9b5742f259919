package pdstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

// pdsPath is where the fake serves PDS, as the real service does.
const pdsPath = "/personal-demographics/FHIR/R4"

// answer is a raw answer of the fake.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// code is the Spine error code of an OperationOutcome answer.
func (a answer) code() string {
	issues, _ := a.body["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	details, _ := issues[0].(map[string]any)["details"].(map[string]any)
	coding, _ := details["coding"].([]any)
	if len(coding) == 0 {
		return ""
	}
	c, _ := coding[0].(map[string]any)["code"].(string)
	return c
}

// call sends a raw request to the fake; headers are name/value pairs, and
// a valid X-Request-ID is added unless one is given ("" leaves it out).
func call(t *testing.T, srv *pdstest.Server, method, path string, body string, headers ...string) answer {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rb)
	require.NoError(t, err)
	req.Header.Set("X-Request-ID", uuid.NewString())
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func TestHeaders(t *testing.T) {
	srv := pdstest.NewServer(pdstest.WithEndUserOrganisationRequired())
	defer srv.Close()
	path := "/Patient/" + pdstest.Patients.Normal.String()
	euo := []string{"NHSD-End-User-Organisation-ODS", "Y12345"}
	tests := []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"valid", euo, 200, ""},
		{"upper-case request ID", append([]string{"X-Request-ID", "60E0B220-8136-4CA5-AE46-1D97EF59D068"}, euo...), 200, ""},
		{"missing request ID", append([]string{"X-Request-ID", ""}, euo...), 400, "MISSING_VALUE"},
		{"request ID not a UUID", append([]string{"X-Request-ID", "12345"}, euo...), 400, "INVALID_VALUE"},
		{"missing end user organisation", nil, 400, "MISSING_VALUE"},
		{"bad end user organisation", []string{"NHSD-End-User-Organisation-ODS", "y1"}, 400, "INVALID_VALUE"},
		{"bad session URID", append([]string{"NHSD-Session-URID", "abc"}, euo...), 400, "INVALID_VALUE"},
		{"good session URID", append([]string{"NHSD-Session-URID", "555254240100"}, euo...), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := append([]string{"X-Correlation-ID", "corr-9"}, tt.headers...)
			a := call(t, srv, http.MethodGet, path, "", hs...)
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.code, a.code())
			assert.Equal(t, "application/fhir+json", a.header.Get("Content-Type"))
			assert.Equal(t, "corr-9", a.header.Get("X-Correlation-ID"), "X-Correlation-ID is echoed")
			for i := 0; i+1 < len(hs); i += 2 {
				if hs[i] == "X-Request-ID" && hs[i+1] != "" {
					assert.Equal(t, hs[i+1], a.header.Get("X-Request-ID"), "X-Request-ID is echoed")
				}
			}
			if tt.status == 200 {
				assert.Equal(t, `W/"1"`, a.header.Get("ETag"))
				assert.Equal(t, "Patient", a.body["resourceType"])
			}
		})
	}
}

func TestSessionURIDByAccessMode(t *testing.T) {
	tests := []struct {
		mode   pds.AccessMode
		status int
		code   string
	}{
		{pds.AccessHealthcareWorker, 400, "INVALID_VALUE"},
		{pds.AccessApplicationRestricted, 200, ""}, // the service ignores the header
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			srv := pdstest.NewServer(pdstest.WithAccessMode(tt.mode))
			defer srv.Close()
			a := call(t, srv, http.MethodGet, "/Patient/"+pdstest.Patients.Normal.String(), "", "NHSD-Session-URID", "not-digits")
			assert.Equal(t, tt.status, a.status, string(a.raw))
			assert.Equal(t, tt.code, a.code())
		})
	}
}

func TestRoutes(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"get", "GET", "/Patient/" + pdstest.Patients.Normal.String(), 200, ""},
		{"invalid NHS number", "GET", "/Patient/9490000010", 400, "INVALID_RESOURCE_ID"},
		{"not digits", "GET", "/Patient/abc", 400, "INVALID_RESOURCE_ID"},
		{"missing NHS number", "GET", "/Patient/", 400, "UNSUPPORTED_SERVICE"},
		{"unknown", "GET", "/Patient/" + pdstest.Patients.Unknown.String(), 404, "RESOURCE_NOT_FOUND"},
		{"invalidated", "GET", "/Patient/" + pdstest.Patients.Invalidated.String(), 404, "INVALIDATED_RESOURCE"},
		{"redacted", "GET", "/Patient/" + pdstest.Patients.Redacted.String(), 404, "RESOURCE_NOT_FOUND"},
		{"related", "GET", "/Patient/" + pdstest.Patients.Normal.String() + "/RelatedPerson", 200, ""},
		{"related of invalid number", "GET", "/Patient/123/RelatedPerson", 400, "INVALID_RESOURCE_ID"},
		{"unknown sub-resource", "GET", "/Patient/" + pdstest.Patients.Normal.String() + "/Observation", 404, ""},
		{"delete", "DELETE", "/Patient/" + pdstest.Patients.Normal.String(), 405, "INVALID_METHOD"},
		{"create", "POST", "/Patient", 501, "UNSUPPORTED_SERVICE"},
		{"put search", "PUT", "/Patient", 405, "INVALID_METHOD"},
		{"other resource", "GET", "/Coverage", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, srv, tt.method, tt.path, "")
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.code, a.code())
			if tt.status != 200 {
				assert.Equal(t, "OperationOutcome", a.body["resourceType"])
			}
		})
	}
	// Outside the service root.
	resp, err := http.Get(strings.TrimSuffix(srv.URL, pdsPath) + "/Patient/" + pdstest.Patients.Normal.String())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestRestrictedRecordsOnTheWire(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	for _, nhs := range []shcrkit.NHSNumber{pdstest.Patients.Restricted, pdstest.Patients.VeryRestricted} {
		a := call(t, srv, "GET", "/Patient/"+nhs.String(), "")
		require.Equal(t, 200, a.status)
		for _, field := range []string{"address", "telecom", "contact", "generalPractitioner"} {
			assert.NotContains(t, a.body, field)
		}
		meta := a.body["meta"].(map[string]any)
		sec := meta["security"].([]any)[0].(map[string]any)
		assert.Equal(t, codesystem.Confidentiality, sec["system"])
		assert.Contains(t, []any{"R", "V"}, sec["code"])
	}
	// The fake still holds the data PDS hides.
	rec, _, ok := srv.Record(pdstest.Patients.Restricted)
	require.True(t, ok)
	assert.NotEmpty(t, rec.Address)
}

func TestSearchValidation(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	tests := []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{"valid", "family=Hartley&birthdate=eq1984-03-14", 200, ""},
		{"range", "family=Hartley&birthdate=ge1984-01-01&birthdate=le1984-12-31", 200, ""},
		{"no parameters", "", 400, "UNSUPPORTED_SERVICE"},
		{"unknown parameter", "family=Hartley&birthdate=eq1984-03-14&invalidParam=123", 400, "ADDITIONAL_PROPERTIES"},
		{"email and phone only", "email=j.smith%40example.com&phone=0163", 400, "MISSING_VALUE"},
		{"no birth date", "family=Hartley", 400, "MISSING_VALUE"},
		{"no family name", "birthdate=eq1984-03-14", 400, "INVALID_SEARCH_DATA"},
		{"birth date without prefix means eq", "family=Hartley&given=Amelia&birthdate=1984-03-14", 200, ""},
		{"a range without prefixes is two eq", "family=Hartley&birthdate=1984-03-14&birthdate=1984-03-15", 400, "INVALID_SEARCH_DATA"},
		{"bad gender", "family=Hartley&birthdate=eq1984-03-14&gender=mal", 400, "INVALID_VALUE"},
		{"bad date", "family=Hartley&birthdate=eq1984-14-03", 400, "INVALID_VALUE"},
		{"short date", "family=Hartley&birthdate=1984-03", 400, "INVALID_VALUE"},
		{"bad date prefix", "family=Hartley&birthdate=gt1984-03-14", 400, "INVALID_VALUE"},
		{"two eq dates", "family=Hartley&birthdate=eq1984-03-14&birthdate=eq1984-03-15", 400, "INVALID_SEARCH_DATA"},
		{"three dates", "family=Hartley&birthdate=ge1984-03-14&birthdate=le1984-03-15&birthdate=eq1984-03-15", 400, "INVALID_SEARCH_DATA"},
		{"bad death date", "family=Hartley&birthdate=eq1984-03-14&death-date=2020", 400, "INVALID_VALUE"},
		{"family twice", "family=Hartley&family=Smith&birthdate=eq1984-03-14", 400, "INVALID_SEARCH_DATA"},
		{"both postcodes", "family=Hartley&birthdate=eq1984-03-14&address-postcode=YO1&address-postalcode=YO1", 400, "INVALID_SEARCH_DATA"},
		{"early wildcard", "family=H%2A&birthdate=eq1984-03-14", 400, "INVALID_SEARCH_DATA"},
		{"fuzzy wildcard", "family=Har%2A&given=Amelia&birthdate=eq1984-03-14&_fuzzy-match=true", 400, "INVALID_SEARCH_DATA"},
		{"fuzzy without enough", "family=Hartley&birthdate=eq1984-03-14&_fuzzy-match=true", 400, "INVALID_SEARCH_DATA"},
		{"email wildcard", "family=Hartley&birthdate=eq1984-03-14&email=a%2A%40example.com", 400, "INVALID_SEARCH_DATA"},
		{"bad boolean", "family=Hartley&birthdate=eq1984-03-14&_history=yes", 400, "INVALID_VALUE"},
		{"max results zero", "family=Hartley&birthdate=eq1984-03-14&_max-results=0", 400, "INVALID_VALUE"},
		{"max results 51", "family=Hartley&birthdate=eq1984-03-14&_max-results=51", 400, "INVALID_VALUE"},
		{"max results text", "family=Hartley&birthdate=eq1984-03-14&_max-results=many", 400, "INVALID_VALUE"},
		{"bad GP", "family=Hartley&birthdate=eq1984-03-14&general-practitioner=y-1", 400, "INVALID_VALUE"},
		{"long family", "family=" + strings.Repeat("a", 36) + "&birthdate=eq1984-03-14", 400, "INVALID_VALUE"},
		{"empty given", "family=Hartley&given=&birthdate=eq1984-03-14", 400, "INVALID_VALUE"},
		{"too many matches", "family=Hartley&birthdate=eq1984-03-14&_max-results=2", 200, "TOO_MANY_MATCHES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, srv, "GET", "/Patient?"+tt.query, "")
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.code, a.code())
		})
	}
}

func TestSearchBundleShape(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC)
	srv := pdstest.NewServer(pdstest.WithClock(func() time.Time { return at }))
	defer srv.Close()
	q := url.Values{"family": {"Hartley"}, "birthdate": {"eq1984-03-14"}, "given": {"Amelia"}, "_fuzzy-match": {"true"}}
	a := call(t, srv, "GET", "/Patient?"+q.Encode(), "")
	require.Equal(t, 200, a.status)
	assert.Equal(t, "Bundle", a.body["resourceType"])
	assert.Equal(t, "searchset", a.body["type"])
	assert.Equal(t, "2025-06-01T12:30:00+00:00", a.body["timestamp"])
	entries := a.body["entry"].([]any)
	assert.Equal(t, float64(len(entries)), a.body["total"])
	require.Len(t, entries, 2)
	first := entries[0].(map[string]any)
	assert.Equal(t, srv.URL+"/Patient/"+pdstest.Patients.Normal.String(), first["fullUrl"])
	assert.Equal(t, 1.0, first["search"].(map[string]any)["score"])
	res := first["resource"].(map[string]any)
	for _, n := range res["name"].([]any) {
		assert.NotEqual(t, "old", n.(map[string]any)["use"], "a search returns no old names")
	}
	assert.Contains(t, res, "address", "a search returns the home address")

	empty := call(t, srv, "GET", "/Patient?family=Nobody&birthdate=eq1984-03-14", "")
	require.Equal(t, 200, empty.status)
	assert.Equal(t, 0.0, empty.body["total"])
	assert.NotContains(t, empty.body, "entry")
}

func TestRelatedPersonBundleShape(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	a := call(t, srv, "GET", "/Patient/"+pdstest.Patients.Superseded.String()+"/RelatedPerson", "")
	require.Equal(t, 200, a.status)
	assert.Equal(t, 0.0, a.body["total"], "the surviving record has no related people")

	a = call(t, srv, "GET", "/Patient/"+pdstest.Patients.Normal.String()+"/RelatedPerson", "")
	require.Equal(t, 200, a.status)
	entries := a.body["entry"].([]any)
	require.Len(t, entries, 2)
	e := entries[0].(map[string]any)
	res := e["resource"].(map[string]any)
	assert.Equal(t, "RelatedPerson", res["resourceType"])
	assert.Equal(t, srv.URL+"/Patient/"+pdstest.Patients.Normal.String()+"/RelatedPerson/"+res["id"].(string), e["fullUrl"])
}

func TestTokenValidator(t *testing.T) {
	valid := func(tok string) error {
		if tok != "good" {
			return errors.New("bad token")
		}
		return nil
	}
	srv := pdstest.NewServer(pdstest.WithTokenValidator(valid))
	defer srv.Close()
	ctx := context.Background()

	_, err := srv.Client().Get(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrUnauthorized, "no token")
	var apiErr *shcrkit.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, "ACCESS_DENIED", apiErr.Code)

	bad, err := srv.NewClient(pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "forged"})))
	require.NoError(t, err)
	_, err = bad.Get(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrUnauthorized)

	good, err := srv.NewClient(pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "good"})))
	require.NoError(t, err)
	_, err = good.Get(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	require.NoError(t, pdstest.CheckClient(ctx, srv, good))
}

func TestFaults(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(pds.WithMaxAttempts(1))
	require.NoError(t, err)
	ctx := context.Background()
	path := "/Patient/" + pdstest.Patients.Normal.String()

	t.Run("rate limited with Retry-After", func(t *testing.T) {
		srv.InjectFault(http.MethodGet, path, 1, pdstest.Fault{Status: 429, Code: "TOO_MANY_REQUESTS", RetryAfter: "3"})
		a := call(t, srv, "GET", path, "")
		assert.Equal(t, 429, a.status)
		assert.Equal(t, "3", a.header.Get("Retry-After"))
		assert.Equal(t, "TOO_MANY_REQUESTS", a.code())
		assert.NotEmpty(t, a.header.Get("X-Request-ID"), "fault answers echo the request ID too")
		assert.Equal(t, 200, call(t, srv, "GET", path, "").status, "the fault is used up")
	})
	t.Run("the service's code for the status when none is given", func(t *testing.T) {
		for _, tt := range []struct {
			fault pdstest.Fault
			code  string
		}{
			{pdstest.Fault{Status: 429, RetryAfter: "1"}, "TOO_MANY_REQUESTS"},
			{pdstest.Fault{Status: 503}, "SERVICE_UNAVAILABLE"},
			{pdstest.Fault{Status: 408}, "UNABLE_TO_CALL_SERVICE"},
			{pdstest.Fault{Status: 401}, "ACCESS_DENIED"},
			{pdstest.Fault{Status: 404}, "RESOURCE_NOT_FOUND"},
			{pdstest.Fault{Status: 404, Code: "INVALIDATED_RESOURCE"}, "INVALIDATED_RESOURCE"},
			{pdstest.Fault{Status: 502}, ""},
		} {
			srv.InjectFault(http.MethodGet, path, 1, tt.fault)
			a := call(t, srv, "GET", path, "")
			assert.Equal(t, tt.fault.Status, a.status)
			assert.Equal(t, tt.code, a.code(), "status %d", tt.fault.Status)
		}
	})
	t.Run("truncated body", func(t *testing.T) {
		srv.InjectFault(http.MethodGet, path, 1, pdstest.Fault{Truncate: 50})
		_, err := c.Get(ctx, pdstest.Patients.Normal)
		assert.Error(t, err)
	})
	t.Run("oversized body", func(t *testing.T) {
		small, err := srv.NewClient(pds.WithMaxResponseBytes(4096), pds.WithMaxAttempts(1))
		require.NoError(t, err)
		srv.InjectFault(http.MethodGet, path, 1, pdstest.Fault{Oversize: 8192})
		_, err = small.Get(ctx, pdstest.Patients.Normal)
		assert.ErrorIs(t, err, shcrkit.ErrResponseTooLarge)
	})
	t.Run("latency and hang end with the context", func(t *testing.T) {
		// On a loaded machine the deadline may pass before the request
		// reaches the server, leaving the fault unused: it must not be
		// left for the next subtest to hang on.
		defer srv.ClearFaults()
		srv.InjectFault(http.MethodGet, path, 1, pdstest.Fault{Hang: true})
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.Get(short, pdstest.Patients.Normal)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("only the chosen route", func(t *testing.T) {
		srv.InjectFault(http.MethodGet, "/Patient/"+pdstest.Patients.Restricted.String(), 1, pdstest.Fault{Status: 500})
		_, err := c.Get(ctx, pdstest.Patients.Normal)
		require.NoError(t, err)
		_, err = c.Get(ctx, pdstest.Patients.Restricted)
		assert.ErrorIs(t, err, shcrkit.ErrUnavailable)
	})
	t.Run("until cleared", func(t *testing.T) {
		srv.InjectFault("", "", -1, pdstest.Fault{Status: 503, Code: "SERVICE_UNAVAILABLE"})
		for i := 0; i < 3; i++ {
			_, err := c.Get(ctx, pdstest.Patients.Normal)
			assert.ErrorIs(t, err, shcrkit.ErrUnavailable)
		}
		srv.ClearFaults()
		_, err := c.Get(ctx, pdstest.Patients.Normal)
		assert.NoError(t, err)
	})
}

func TestRequestsAreCopies(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	_, err := srv.Client().Get(context.Background(), pdstest.Patients.Normal)
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.StatusOK, reqs[0].Status)
	reqs[0].Header.Set("X-Request-ID", "changed")
	reqs[0].Path = "changed"
	again := srv.Requests()
	assert.NotEqual(t, "changed", again[0].Header.Get("X-Request-ID"))
	assert.Equal(t, pdsPath+"/Patient/"+pdstest.Patients.Normal.String(), again[0].Path)
	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
}

func TestUnstartedServer(t *testing.T) {
	srv, err := pdstest.NewUnstartedServer()
	require.NoError(t, err)
	assert.Empty(t, srv.URL)
	_, err = srv.NewClient()
	assert.Error(t, err)

	// The handler can be mounted elsewhere.
	mux := http.NewServeMux()
	mux.Handle(pdsPath+"/", srv.Handler())
	req := httptest.NewRequest("GET", "http://pds.test"+pdsPath+"/Patient/"+pdstest.Patients.Normal.String(), nil)
	req.Header.Set("X-Request-ID", uuid.NewString())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code)
	assert.Contains(t, rec.Body.String(), `"resourceType":"Patient"`)

	srv.Start()
	defer srv.Close()
	assert.True(t, strings.HasSuffix(srv.URL, pdsPath))
	_, err = srv.Client().Get(context.Background(), pdstest.Patients.Normal)
	assert.NoError(t, err)
}

func TestConcurrentUse(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := c.Get(ctx, pdstest.Patients.Normal); err != nil {
					errs <- err
				}
				if _, err := c.Search(ctx, pds.SearchQuery{Family: "Hartley", BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-03-14"}}); err != nil {
					errs <- err
				}
				// Updates race on the version: each either applies or
				// meets a version mismatch.
				p, err := c.Get(ctx, pdstest.SyntheticNHSNumber(20))
				if err != nil {
					errs <- err
					continue
				}
				if _, err := c.Update(ctx, p.NHSNumber(), p.Version(), pds.PatchOp{Op: "replace", Path: "/birthDate", Value: "1950-01-01"}); err != nil && !errors.Is(err, shcrkit.ErrVersionMismatch) {
					errs <- err
				}
				_ = srv.Requests()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, version, _ := srv.Record(pdstest.SyntheticNHSNumber(20))
	assert.NotEqual(t, "1", version)
	assert.Equal(t, 8*5*4, len(srv.Requests()))
}
