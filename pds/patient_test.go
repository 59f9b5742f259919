package pds_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
)

func TestLabelsAndReferences(t *testing.T) {
	const sys = `"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"`
	tests := []struct {
		name string
		body string
		conf shcrkit.Confidentiality
		gp   shcrkit.ODSCode
	}{
		{"most restrictive of two labels", `{"resourceType":"Patient","id":"9490000019","meta":{"security":[{` + sys + `,"code":"U"},{` + sys + `,"code":"V"},{` + sys + `,"code":"R"}]}}`, shcrkit.ConfidentialityVeryRestricted, ""},
		{"label of another system ignored", `{"resourceType":"Patient","id":"9490000019","meta":{"security":[{"system":"http://example.test/other","code":"U"}]}}`, shcrkit.ConfidentialityUnrestricted, ""},
		{"label without system", `{"resourceType":"Patient","id":"9490000019","meta":{"security":[{"code":"u"}]}}`, shcrkit.ConfidentialityUnrestricted, ""},
		{"GP of another system ignored", `{"resourceType":"Patient","id":"9490000019","generalPractitioner":[{"identifier":{"system":"http://example.test/other","value":"Y99999"}},{"identifier":{"value":"Y10002"}}]}`, shcrkit.ConfidentialityUnrestricted, "Y10002"},
		{"GP code not ODS", `{"resourceType":"Patient","id":"9490000019","generalPractitioner":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"y-1"}},{"reference":"Organization/1"}]}`, shcrkit.ConfidentialityUnrestricted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, reply(http.StatusOK, tt.body))
			p, err := f.client(t).Get(context.Background(), "9490000019")
			require.NoError(t, err)
			assert.Equal(t, tt.conf, p.Confidentiality())
			assert.Equal(t, tt.gp, p.GPPractice())
		})
	}
}

func TestViewsStayOutOfLogs(t *testing.T) {
	f := newFixture(t, reply(http.StatusOK, patientJSON("9490000019", "U", "1")))
	p, err := f.client(t).Get(context.Background(), "9490000019")
	require.NoError(t, err)
	name, _ := p.UsualName()
	addr, _ := p.HomeAddress()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("traced", "patient", p, "name", name, "address", addr, "telecom", p.Telecom()[0])
	out := buf.String()
	for _, secret := range []string{"9490000019", "Fernsby", "Orchard", "SP1 2XY", "01632 960555"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, "949****019")
	assert.Contains(t, out, `"confidentiality":"unrestricted"`)
}

func TestNilContext(t *testing.T) {
	f := newFixture(t, mustNotCall(t))
	//lint:ignore SA1012 a nil context is what is being tested
	_, err := f.client(t).Get(nil, "9490000019") //nolint:staticcheck
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
}
