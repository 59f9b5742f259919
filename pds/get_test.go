package pds_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestGetView(t *testing.T) {
	f := newFixture(t, reply(http.StatusOK, patientJSON("9490000019", "U", "7"), "ETag", `W/"7"`))
	p, err := f.client(t).Get(context.Background(), "9490000019")
	require.NoError(t, err)

	assert.Equal(t, shcrkit.NHSNumber("9490000019"), p.NHSNumber())
	assert.Equal(t, "9490000019", *p.Resource.Id)
	assert.Empty(t, p.Superseded())
	assert.Equal(t, "7", p.Version())
	assert.Equal(t, shcrkit.ConfidentialityUnrestricted, p.Confidentiality())
	assert.False(t, p.Confidentiality().Restricted())
	assert.Equal(t, "female", p.Gender())
	assert.Equal(t, "1961-06-30", p.BirthDate())
	date, dead := p.Deceased()
	assert.False(t, dead)
	assert.Empty(t, date)

	name, ok := p.UsualName()
	require.True(t, ok)
	assert.Equal(t, pds.Name{ID: "N2", Use: "usual", Prefix: []string{"Dr"}, Given: []string{"Ada", "Mary"},
		Family: "Fernsby", Suffix: []string{"OBE"}}, name)
	assert.Equal(t, "Ada Mary Fernsby", name.String())
	assert.Len(t, p.Names(), 2)

	home, ok := p.HomeAddress()
	require.True(t, ok)
	assert.Equal(t, pds.Address{ID: "A2", Use: "home", Lines: []string{"7 Orchard Rise", "Lindley"}, PostalCode: "SP1 2XY"}, home)
	assert.Len(t, p.Addresses(), 2)
	assert.Equal(t, "Holiday Home", p.Addresses()[0].Text)

	assert.Equal(t, []pds.ContactPoint{
		{ID: "T1", System: "phone", Use: "home", Value: "01632 960555"},
		{ID: "T2", System: "email", Use: "home", Value: "ada@example.com"},
	}, p.Telecom())
	assert.Equal(t, shcrkit.ODSCode("Y20002"), p.GPPractice())
	require.NotNil(t, p.Resource.Gender)
}

func TestGetAnswers(t *testing.T) {
	const nhs = shcrkit.NHSNumber("9490000019")
	deceased := strings.Replace(patientJSON(nhs.String(), "U", "2"), `"birthDate"`, `"deceasedDateTime": "2024-05-06T10:20:00+00:00", "birthDate"`, 1)
	deceasedDateOnly := strings.Replace(patientJSON(nhs.String(), "U", "2"), `"birthDate"`, `"deceasedDateTime": "2024-05-06", "birthDate"`, 1)
	deceasedFlag := strings.Replace(patientJSON(nhs.String(), "U", "2"), `"birthDate"`, `"deceasedBoolean": true, "birthDate"`, 1)
	noLabel := `{"resourceType": "Patient", "id": "9490000019", "meta": {"versionId": "1"}}`
	tests := []struct {
		name     string
		answer   http.HandlerFunc
		check    func(t *testing.T, p *pds.Patient)
		wantErr  []error
		notErr   []error
		attempts int
	}{
		{name: "ETag wins over meta.versionId", answer: reply(200, patientJSON(nhs.String(), "U", "3"), "ETag", `W/"4"`),
			check: func(t *testing.T, p *pds.Patient) { assert.Equal(t, "4", p.Version()) }},
		{name: "meta.versionId without ETag", answer: reply(200, patientJSON(nhs.String(), "U", "3")),
			check: func(t *testing.T, p *pds.Patient) { assert.Equal(t, "3", p.Version()) }},
		{name: "numeric meta.versionId", answer: reply(200, `{"resourceType":"Patient","id":"9490000019","meta":{"versionId":2}}`),
			check: func(t *testing.T, p *pds.Patient) { assert.Equal(t, "2", p.Version()) }},
		{name: "numeric meta.versionId beside an ETag", answer: reply(200, `{"resourceType":"Patient","id":"9490000019","meta":{"versionId":2}}`, "ETag", `W/"5"`),
			check: func(t *testing.T, p *pds.Patient) { assert.Equal(t, "5", p.Version()) }},
		{name: "unreadable meta.versionId falls back to the ETag", answer: reply(200, `{"resourceType":"Patient","id":"9490000019","meta":{"versionId":{"v":2}}}`, "ETag", `W/"6"`),
			check: func(t *testing.T, p *pds.Patient) { assert.Equal(t, "6", p.Version()) }},
		{name: "fractional meta.versionId is no version", answer: reply(200, `{"resourceType":"Patient","id":"9490000019","meta":{"versionId":2.5}}`),
			check: func(t *testing.T, p *pds.Patient) { assert.Empty(t, p.Version()) }},
		{name: "other type errors stay errors", answer: reply(200, `{"resourceType":"Patient","id":"9490000019","meta":{"versionId":"1"},"gender":7}`),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
		{name: "no version at all", answer: reply(200, `{"resourceType":"Patient","id":"9490000019"}`),
			check: func(t *testing.T, p *pds.Patient) { assert.Empty(t, p.Version()) }},
		{name: "superseded number", answer: reply(200, patientJSON("9490000078", "U", "1")),
			check: func(t *testing.T, p *pds.Patient) {
				assert.Equal(t, shcrkit.NHSNumber("9490000078"), p.NHSNumber())
				assert.Equal(t, nhs, p.Superseded())
			}},
		{name: "id missing, NHS number identifier", answer: reply(200,
			`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9490000019"}]}`),
			check: func(t *testing.T, p *pds.Patient) { assert.Equal(t, nhs, p.NHSNumber()) }},
		{name: "restricted", answer: reply(200, restrictedJSON(nhs.String(), "R")),
			check: func(t *testing.T, p *pds.Patient) {
				assert.True(t, p.Confidentiality().Restricted())
				assert.Equal(t, shcrkit.ConfidentialityRestricted, p.Confidentiality())
				_, ok := p.HomeAddress()
				assert.False(t, ok)
				assert.Empty(t, p.Telecom())
				assert.Empty(t, p.GPPractice())
				name, ok := p.UsualName()
				assert.True(t, ok)
				assert.Equal(t, "Kit Larch", name.String())
			}},
		{name: "very restricted", answer: reply(200, restrictedJSON(nhs.String(), "V")),
			check: func(t *testing.T, p *pds.Patient) {
				assert.True(t, p.Confidentiality().Restricted())
				assert.Equal(t, "very restricted", p.Confidentiality().String())
			}},
		{name: "no label is unrestricted", answer: reply(200, noLabel),
			check: func(t *testing.T, p *pds.Patient) {
				assert.False(t, p.Confidentiality().Restricted())
				assert.Equal(t, shcrkit.ConfidentialityUnrestricted, p.Confidentiality())
				_, ok := p.UsualName()
				assert.False(t, ok)
			}},
		{name: "deceased with time", answer: reply(200, deceased),
			check: func(t *testing.T, p *pds.Patient) {
				date, dead := p.Deceased()
				assert.True(t, dead)
				assert.Equal(t, "2024-05-06", date)
			}},
		{name: "deceased date only", answer: reply(200, deceasedDateOnly),
			check: func(t *testing.T, p *pds.Patient) {
				date, dead := p.Deceased()
				assert.True(t, dead)
				assert.Equal(t, "2024-05-06", date)
			}},
		{name: "deceased without date", answer: reply(200, deceasedFlag),
			check: func(t *testing.T, p *pds.Patient) {
				date, dead := p.Deceased()
				assert.True(t, dead)
				assert.Empty(t, date)
			}},
		{name: "not found", answer: reply(404, outcomeJSON("not-found", "RESOURCE_NOT_FOUND", "")),
			wantErr: []error{shcrkit.ErrNotFound}, notErr: []error{shcrkit.ErrInvalidated}},
		{name: "invalidated", answer: reply(404, outcomeJSON("processing", "INVALIDATED_RESOURCE", "")),
			wantErr: []error{shcrkit.ErrNotFound, shcrkit.ErrInvalidated}},
		{name: "invalid resource id", answer: reply(400, outcomeJSON("value", "INVALID_RESOURCE_ID", "")),
			wantErr: []error{shcrkit.ErrInvalidRequest}},
		{name: "missing header", answer: reply(400, outcomeJSON("required", "MISSING_VALUE", "X-Request-ID header must be supplied")),
			wantErr: []error{shcrkit.ErrInvalidRequest}},
		{name: "access denied", answer: reply(401, outcomeJSON("forbidden", "ACCESS_DENIED", "")),
			wantErr: []error{shcrkit.ErrUnauthorized}},
		{name: "forbidden", answer: reply(403, outcomeJSON("forbidden", "ACCESS_DENIED", "")),
			wantErr: []error{shcrkit.ErrForbidden}},
		{name: "timeout", answer: reply(408, outcomeJSON("timeout", "UNABLE_TO_CALL_SERVICE", "")),
			wantErr: []error{shcrkit.ErrUnavailable}},
		{name: "rate limited every time", answer: reply(429, outcomeJSON("throttled", "TOO_MANY_REQUESTS", ""), "Retry-After", "0"),
			wantErr: []error{shcrkit.ErrRateLimited}, attempts: 3},
		{name: "OperationOutcome with 200", answer: reply(200, outcomeJSON("processing", "UNSUPPORTED_SERVICE", "")),
			wantErr: []error{shcrkit.ErrInvalidRequest}},
		{name: "wrong resource type", answer: reply(200, `{"resourceType":"Bundle"}`),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
		{name: "no valid NHS number", answer: reply(200, `{"resourceType":"Patient","id":"9000000015"}`),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
		{name: "truncated JSON", answer: reply(200, patientJSON(nhs.String(), "U", "1")[:80]),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
		{name: "HTML page", answer: reply(200, "<html>maintenance</html>", "Content-Type", "text/html"),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
		{name: "enum the model rejects", answer: reply(200, `{"resourceType":"Patient","id":"9490000019","gender":"mal"}`),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.answer)
			p, err := f.client(t).Get(context.Background(), nhs)
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					assert.ErrorIs(t, err, w)
				}
				for _, w := range tt.notErr {
					assert.NotErrorIs(t, err, w)
				}
				assert.NotContains(t, err.Error(), nhs.String())
				assert.Contains(t, err.Error(), f.requests()[0].Header.Get("X-Request-ID"))
				if tt.attempts > 0 {
					assert.Len(t, f.requests(), tt.attempts)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}

func TestGetRetriesWithSameRequestID(t *testing.T) {
	calls := 0
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			reply(503, outcomeJSON("timeout", "SERVICE_UNAVAILABLE", ""), "Retry-After", "0")(w, r)
			return
		}
		reply(200, patientJSON("9490000019", "U", "1"))(w, r)
	})
	_, err := f.client(t).Get(context.Background(), "9490000019")
	require.NoError(t, err)
	reqs := f.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].Header.Get("X-Request-ID"), reqs[1].Header.Get("X-Request-ID"))
}

func TestGetAgainstFake(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	tests := []struct {
		nhs     shcrkit.NHSNumber
		check   func(t *testing.T, p *pds.Patient)
		wantErr []error
		notErr  []error
	}{
		{nhs: pdstest.Patients.Normal, check: func(t *testing.T, p *pds.Patient) {
			assert.Equal(t, pdstest.Patients.Normal, p.NHSNumber())
			assert.Equal(t, "1", p.Version())
			assert.False(t, p.Confidentiality().Restricted())
			a, ok := p.HomeAddress()
			require.True(t, ok)
			assert.Equal(t, "YO62 4QT", a.PostalCode)
			assert.Equal(t, shcrkit.ODSCode("Y10001"), p.GPPractice())
			assert.Len(t, p.Telecom(), 2)
			assert.Len(t, p.Resource.Contact, 1)
			assert.Len(t, p.Names(), 2, "usual and old names on a get")
		}},
		{nhs: pdstest.Patients.Restricted, check: func(t *testing.T, p *pds.Patient) {
			assert.Equal(t, shcrkit.ConfidentialityRestricted, p.Confidentiality())
			assert.Empty(t, p.Resource.Address)
			assert.Empty(t, p.Resource.Telecom)
			assert.Empty(t, p.Resource.Contact)
			assert.Empty(t, p.Resource.GeneralPractitioner)
		}},
		{nhs: pdstest.Patients.VeryRestricted, check: func(t *testing.T, p *pds.Patient) {
			assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, p.Confidentiality())
			assert.Empty(t, p.Resource.Address)
		}},
		{nhs: pdstest.Patients.Deceased, check: func(t *testing.T, p *pds.Patient) {
			date, dead := p.Deceased()
			assert.True(t, dead)
			assert.Equal(t, "2023-02-11", date)
		}},
		{nhs: pdstest.Patients.Superseded, check: func(t *testing.T, p *pds.Patient) {
			assert.Equal(t, pdstest.Patients.Surviving, p.NHSNumber())
			assert.Equal(t, pdstest.Patients.Superseded, p.Superseded())
		}},
		{nhs: pdstest.Patients.Surviving, check: func(t *testing.T, p *pds.Patient) {
			assert.Empty(t, p.Superseded())
		}},
		{nhs: pdstest.Patients.Minimal, check: func(t *testing.T, p *pds.Patient) {
			_, ok := p.UsualName()
			assert.False(t, ok)
			assert.Empty(t, p.BirthDate())
			assert.Empty(t, p.Gender())
			assert.False(t, p.Confidentiality().Restricted())
		}},
		{nhs: pdstest.Patients.Invalidated, wantErr: []error{shcrkit.ErrInvalidated, shcrkit.ErrNotFound}},
		{nhs: pdstest.Patients.Redacted, wantErr: []error{shcrkit.ErrNotFound}, notErr: []error{shcrkit.ErrInvalidated}},
		{nhs: pdstest.Patients.Unknown, wantErr: []error{shcrkit.ErrNotFound}, notErr: []error{shcrkit.ErrInvalidated}},
	}
	for _, tt := range tests {
		t.Run(tt.nhs.Masked(), func(t *testing.T) {
			p, err := c.Get(ctx, tt.nhs)
			if tt.wantErr != nil {
				for _, w := range tt.wantErr {
					assert.ErrorIs(t, err, w)
				}
				for _, w := range tt.notErr {
					assert.NotErrorIs(t, err, w)
				}
				var apiErr *shcrkit.APIError
				require.True(t, errors.As(err, &apiErr))
				assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
				return
			}
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}
