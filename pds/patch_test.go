package pds_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestValidatePatch(t *testing.T) {
	tests := []struct {
		name  string
		ops   []pds.PatchOp
		field string // "" when valid
	}{
		{"replace a value", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"}}, ""},
		{"add to a list", []pds.PatchOp{pds.PatchOp{Op: "add", Path: "/name/-", Value: map[string]any{"use": "nickname", "given": []string{"Addy"}}}}, ""},
		{"add inside a list item", []pds.PatchOp{pds.PatchOp{Op: "add", Path: "/name/0/id", Value: "N1"}, pds.PatchOp{Op: "add", Path: "/name/0/given/0", Value: "Rose"}}, ""},
		{"remove a value", []pds.PatchOp{pds.PatchOp{Op: "remove", Path: "/deceasedDateTime"}}, ""},
		{"remove an item after testing its id", pds.RemoveItem("/name", 1, "N2"), ""},
		{"remove an item after testing its url", []pds.PatchOp{pds.PatchOp{Op: "test", Path: "/extension/0/url", Value: "https://x"}, pds.PatchOp{Op: "remove", Path: "/extension/0"}}, ""},
		{"remove an item after testing it whole", []pds.PatchOp{pds.PatchOp{Op: "test", Path: "/name/0", Value: map[string]any{"id": "N1"}}, pds.PatchOp{Op: "remove", Path: "/name/0"}}, ""},
		{"escaped pointer", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/extension/0/url~1x~0y", Value: "v"}}, ""},
		{"change part of an item after testing its id", []pds.PatchOp{pds.PatchOp{Op: "test", Path: "/address/0/id", Value: "A1"}, pds.PatchOp{Op: "replace", Path: "/address/0/postalCode", Value: "LS1 4AP"}}, ""},
		{"change part of an item after mirroring its id", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/name/0/id", Value: "N1"}, pds.PatchOp{Op: "replace", Path: "/name/0/family", Value: "Smith"}}, ""},
		{"change part of an item that carries no id", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/extension/0/valueString", Value: "x"}}, ""},
		{"change part of an item without its id", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/address/0/postalCode", Value: "LS1 4AP"}}, "patches[0]"},
		{"change part of an item after testing another's id", []pds.PatchOp{pds.PatchOp{Op: "test", Path: "/telecom/1/id", Value: "T2"}, pds.PatchOp{Op: "remove", Path: "/telecom/0/period"}}, "patches[1]"},
		{"no operations", nil, "patches"},
		{"unknown op", []pds.PatchOp{{Op: "move", Path: "/gender"}}, "patches[0]"},
		{"empty path", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "", Value: "male"}}, "patches[0]"},
		{"root path", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/", Value: "male"}}, "patches[0]"},
		{"relative path", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "gender", Value: "male"}}, "patches[0]"},
		{"empty segment", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/name//given", Value: "x"}}, "patches[0]"},
		{"bad escape", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/a~2b", Value: "x"}}, "patches[0]"},
		{"add without value", []pds.PatchOp{pds.PatchOp{Op: "add", Path: "/gender", Value: nil}}, "patches[0]"},
		{"remove with value", []pds.PatchOp{{Op: "remove", Path: "/gender", Value: "male"}}, "patches[0]"},
		{"add at a top-level index", []pds.PatchOp{pds.PatchOp{Op: "add", Path: "/address/0", Value: map[string]any{"use": "home"}}}, "patches[0]"},
		{"dash inside a path", []pds.PatchOp{pds.PatchOp{Op: "add", Path: "/name/-/given", Value: "x"}}, "patches[0]"},
		{"replace at dash", []pds.PatchOp{pds.PatchOp{Op: "replace", Path: "/name/-", Value: "x"}}, "patches[0]"},
		{"remove at dash", []pds.PatchOp{pds.PatchOp{Op: "remove", Path: "/name/-"}}, "patches[0]"},
		{"remove an item without a test", []pds.PatchOp{pds.PatchOp{Op: "remove", Path: "/name/0"}}, "patches[0]"},
		{"test not immediately before", []pds.PatchOp{pds.PatchOp{Op: "test", Path: "/name/0/id", Value: "N1"}, pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"}, pds.PatchOp{Op: "remove", Path: "/name/0"}}, "patches[2]"},
		{"test of another item", []pds.PatchOp{pds.PatchOp{Op: "test", Path: "/name/1/id", Value: "N1"}, pds.PatchOp{Op: "remove", Path: "/name/0"}}, "patches[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pds.ValidatePatch(tt.ops...)
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, pds.ErrInvalidPatch)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
			var ie *pds.InputError
			require.True(t, errors.As(err, &ie))
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

func TestPatchOpJSON(t *testing.T) {
	tests := []struct {
		op   pds.PatchOp
		want string
	}{
		{pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"}, `{"op":"replace","path":"/gender","value":"male"}`},
		{pds.PatchOp{Op: "remove", Path: "/gender"}, `{"op":"remove","path":"/gender"}`},
		{pds.PatchOp{Op: "test", Path: "/name/0/id", Value: "N1"}, `{"op":"test","path":"/name/0/id","value":"N1"}`},
		{pds.PatchOp{Op: "add", Path: "/telecom/-", Value: fhir.ContactPoint{System: ptr.To(fhir.ContactPointSystemEmail), Value: ptr.To("a@example.com")}},
			`{"op":"add","path":"/telecom/-","value":{"system":"email","value":"a@example.com"}}`},
		{pds.PatchOp{Op: "replace", Path: "/address/1", Value: fhir.Address{Id: ptr.To("A2"), Line: []string{"1 New Road"}}},
			`{"op":"replace","path":"/address/1","value":{"id":"A2","line":["1 New Road"]}}`},
		{pds.PatchOp{Op: "add", Path: "/name/-", Value: fhir.HumanName{Use: ptr.To(fhir.NameUseNickname), Given: []string{"Addy"}}},
			`{"op":"add","path":"/name/-","value":{"use":"nickname","given":["Addy"]}}`},
		{pds.PatchOp{Op: "replace", Path: "/name/0", Value: fhir.HumanName{Id: ptr.To("N1"), Family: ptr.To("Fern")}},
			`{"op":"replace","path":"/name/0","value":{"id":"N1","family":"Fern"}}`},
		{pds.PatchOp{Op: "add", Path: "/address/-", Value: fhir.Address{Use: ptr.To(fhir.AddressUseTemp)}}, `{"op":"add","path":"/address/-","value":{"use":"temp"}}`},
		{pds.PatchOp{Op: "replace", Path: "/telecom/2", Value: fhir.ContactPoint{Id: ptr.To("T3")}}, `{"op":"replace","path":"/telecom/2","value":{"id":"T3"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.op.Path, func(t *testing.T) {
			b, err := json.Marshal(tt.op)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b))
			var back pds.PatchOp
			require.NoError(t, json.Unmarshal(b, &back))
			b2, err := json.Marshal(back)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b2))
		})
	}
	for _, ops := range [][]pds.PatchOp{pds.RemoveItem("/name", 2, "N3"), pds.RemoveItem("/address", 0, "A1"), pds.RemoveItem("/telecom", 1, "T2")} {
		require.Len(t, ops, 2)
		assert.Equal(t, "test", ops[0].Op)
		assert.Equal(t, ops[1].Path+"/id", ops[0].Path)
		assert.NoError(t, pds.ValidatePatch(ops...))
	}
	var absent pds.PatchOp
	require.NoError(t, json.Unmarshal([]byte(`{"op":"remove","path":"/gender"}`), &absent))
	assert.Nil(t, absent.Value)
}

func TestUpdateRequest(t *testing.T) {
	updated := patientJSON("9490000019", "U", "8")
	f := newFixture(t, reply(http.StatusOK, updated, "ETag", `W/"8"`))
	c := f.client(t)
	for _, version := range []string{"7", `W/"7"`, `"7"`} {
		p, err := c.Update(context.Background(), "9490000019", version,
			pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"}, pds.PatchOp{Op: "test", Path: "/telecom/1/id", Value: "T2"}, pds.PatchOp{Op: "remove", Path: "/telecom/1"})
		require.NoError(t, err)
		assert.Equal(t, "8", p.Version())
	}
	reqs, bodies := f.requests(), f.bodies()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/personal-demographics/FHIR/R4/Patient/9490000019", r.URL.Path)
		assert.Equal(t, `W/"7"`, r.Header.Get("If-Match"))
		assert.Equal(t, "application/json-patch+json", r.Header.Get("Content-Type"))
		assert.Regexp(t, uuidPattern, r.Header.Get("X-Request-ID"))
		assert.JSONEq(t, `{"patches":[{"op":"replace","path":"/gender","value":"male"},
			{"op":"test","path":"/telecom/1/id","value":"T2"},{"op":"remove","path":"/telecom/1"}]}`, string(bodies[i]))
	}
}

func TestUpdateAnswers(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(calls int) http.HandlerFunc
		wantErr  []error
		attempts int
	}{
		{name: "version mismatch", answer: func(int) http.HandlerFunc {
			return reply(409, outcomeJSON("conflict", "RESOURCE_VERSION_MISMATCH", ""))
		}, wantErr: []error{shcrkit.ErrVersionMismatch, shcrkit.ErrConflict}, attempts: 1},
		{name: "precondition failed", answer: func(int) http.HandlerFunc {
			return reply(412, outcomeJSON("structure", "PRECONDITION_FAILED", ""))
		}, wantErr: []error{shcrkit.ErrInvalidRequest}, attempts: 1},
		{name: "invalid update", answer: func(int) http.HandlerFunc {
			return reply(400, outcomeJSON("structure", "INVALID_UPDATE", "Update unsupported for resource - 'pets'"))
		}, wantErr: []error{shcrkit.ErrInvalidRequest}, attempts: 1},
		{name: "forbidden update", answer: func(int) http.HandlerFunc {
			return reply(403, outcomeJSON("forbidden", "FORBIDDEN_UPDATE", ""))
		}, wantErr: []error{shcrkit.ErrForbidden}, attempts: 1},
		{name: "slow then applied", answer: func(calls int) http.HandlerFunc {
			if calls == 1 {
				return reply(503, outcomeJSON("timeout", "SERVICE_UNAVAILABLE", ""), "Retry-After", "0")
			}
			return reply(200, patientJSON("9490000019", "U", "8"), "ETag", `W/"8"`)
		}, attempts: 2},
		{name: "slow every time", answer: func(int) http.HandlerFunc {
			return reply(503, outcomeJSON("timeout", "SERVICE_UNAVAILABLE", ""), "Retry-After", "0")
		}, wantErr: []error{shcrkit.ErrUnavailable}, attempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {
				calls++
				tt.answer(calls)(w, r)
			})
			p, err := f.client(t).Update(context.Background(), "9490000019", "7", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
			reqs := f.requests()
			require.Len(t, reqs, tt.attempts)
			for _, r := range reqs[1:] {
				assert.Equal(t, reqs[0].Header.Get("X-Request-ID"), r.Header.Get("X-Request-ID"), "a re-sent update keeps its X-Request-ID")
			}
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "8", p.Version())
				return
			}
			for _, w := range tt.wantErr {
				assert.ErrorIs(t, err, w)
			}
		})
	}
}

func TestUpdateAgainstFake(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	p, err := c.Get(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	home, ok := p.HomeAddress()
	require.True(t, ok)

	moved := fhir.Address{Id: ptr.To(home.ID), Use: ptr.To(fhir.AddressUseHome), Line: []string{"1 Ridge Road", "Edgemoor"}, PostalCode: ptr.To("ST13 8PX")}
	p2, err := c.Update(ctx, pdstest.Patients.Normal, p.Version(),
		pds.PatchOp{Op: "replace", Path: "/address/0", Value: moved},
		pds.PatchOp{Op: "add", Path: "/telecom/-", Value: fhir.ContactPoint{System: ptr.To(fhir.ContactPointSystemPhone), Use: ptr.To(fhir.ContactPointUseMobile), Value: ptr.To("07700 900123")}},
		pds.PatchOp{Op: "test", Path: "/name/0/id", Value: usualNameID(t, p)},
		pds.PatchOp{Op: "replace", Path: "/name/0/given/1", Value: "Rosa"},
	)
	require.NoError(t, err)
	assert.Equal(t, "2", p2.Version())
	a, _ := p2.HomeAddress()
	assert.Equal(t, "ST13 8PX", a.PostalCode)
	require.Len(t, p2.Telecom(), 3)
	assert.NotEmpty(t, p2.Telecom()[2].ID, "the service assigns ids to new items")
	n, _ := p2.UsualName()
	assert.Equal(t, []string{"Amelia", "Rosa"}, n.Given)

	// The fake keeps the change.
	rec, version, ok := srv.Record(pdstest.Patients.Normal)
	require.True(t, ok)
	assert.Equal(t, "2", version)
	assert.Equal(t, "ST13 8PX", *rec.Address[0].PostalCode)

	_, err = c.Update(ctx, pdstest.Patients.Normal, p.Version(), pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
	assert.ErrorIs(t, err, shcrkit.ErrVersionMismatch)

	p3, err := c.Update(ctx, pdstest.Patients.Normal, p2.Version(), pds.RemoveItem("/telecom", 2, p2.Telecom()[2].ID)...)
	require.NoError(t, err)
	assert.Len(t, p3.Telecom(), 2)

	_, err = c.Update(ctx, pdstest.Patients.Normal, p3.Version(), pds.RemoveItem("/telecom", 0, "not-the-id")...)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest, "a failed test rejects the whole update")

	_, err = c.Update(ctx, pdstest.Patients.Normal, p3.Version(), pds.PatchOp{Op: "remove", Path: "/gender"})
	assert.ErrorIs(t, err, shcrkit.ErrForbidden)

	_, err = c.Update(ctx, pdstest.Patients.Restricted, "1", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
	assert.ErrorIs(t, err, shcrkit.ErrForbidden)

	_, err = c.Update(ctx, pdstest.Patients.Unknown, "1", pds.PatchOp{Op: "replace", Path: "/gender", Value: "male"})
	assert.ErrorIs(t, err, shcrkit.ErrNotFound)

	// A slow service applies the change and answers 503; the client
	// re-sends with the same X-Request-ID and the change is applied once.
	srv.ResetRequests()
	srv.InjectFault(http.MethodPatch, "/Patient/", 1, pdstest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0", AfterServing: true})
	p4, err := c.Update(ctx, pdstest.Patients.Normal, p3.Version(), pds.PatchOp{Op: "replace", Path: "/birthDate", Value: "1984-03-15"})
	require.NoError(t, err)
	assert.Equal(t, "4", p4.Version())
	assert.Equal(t, "1984-03-15", p4.BirthDate())
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.StatusServiceUnavailable, reqs[0].Status)
	assert.Equal(t, reqs[0].Header.Get("X-Request-ID"), reqs[1].Header.Get("X-Request-ID"))
}

// usualNameID is the object id of the patient's first name, which a
// change to part of it must test.
func usualNameID(t *testing.T, p *pds.Patient) string {
	t.Helper()
	names := p.Names()
	require.NotEmpty(t, names)
	require.NotEmpty(t, names[0].ID)
	return names[0].ID
}
