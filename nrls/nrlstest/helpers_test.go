package nrlstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

var ctx = context.Background()

func newServer(t testing.TB, opts ...nrlstest.Option) *nrlstest.Server {
	t.Helper()
	srv := nrlstest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// answer is a raw answer of the fake.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// outcome decodes an OperationOutcome answer.
type outcome struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity string `json:"severity"`
		Code     string `json:"code"`
		Details  struct {
			Coding []struct {
				System, Code, Display string
			} `json:"coding"`
		} `json:"details"`
		Diagnostics string   `json:"diagnostics"`
		Expression  []string `json:"expression"`
	} `json:"issue"`
}

func (a answer) outcome(t *testing.T) outcome {
	t.Helper()
	var o outcome
	require.NoError(t, json.Unmarshal(a.body, &o), string(a.body))
	require.Equal(t, "OperationOutcome", o.ResourceType)
	require.NotEmpty(t, o.Issue)
	return o
}

// code returns the Spine code of the first issue.
func (a answer) code(t *testing.T) string {
	t.Helper()
	o := a.outcome(t)
	require.NotEmpty(t, o.Issue[0].Details.Coding, string(a.body))
	return o.Issue[0].Details.Coding[0].Code
}

// headers are the headers a request needs.
func headers(org shcrkit.ODSCode) http.Header {
	h := http.Header{}
	h.Set("X-Request-ID", uuid.NewString())
	h.Set("NHSD-End-User-Organisation-ODS", string(org))
	return h
}

// send makes a raw request to the fake.
func send(t *testing.T, srv *nrlstest.Server, method, path string, h http.Header, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func consumerPath(p string) string { return nrls.ConsumerPath + p }
func producerPath(p string) string { return nrls.ProducerPath + p }

// pointerBody returns a valid pointer of custodian, as JSON, with edit
// applied to its decoded form.
func pointerBody(t *testing.T, custodian shcrkit.ODSCode, edit func(m map[string]any)) string {
	t.Helper()
	p, err := nrls.NewPointer(nrls.PointerSpec{
		NHSNumber: pdstest.Patients.Normal, Custodian: custodian, Type: nrls.TypeMentalHealthCrisisPlan,
		URL: "ssp://shcr.example/records/x1", ProviderASID: "900000000101",
		PracticeSetting: nrls.Concept{Code: "788002001", Display: "Adult mental health service"},
	})
	require.NoError(t, err)
	b, err := json.Marshal(p.Resource)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	if edit != nil {
		edit(m)
	}
	b, err = json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}
