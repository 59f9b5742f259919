package pds_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/shcrkit/shcrkit/internal/testcert"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pdsPath is where the fake serves PDS, as the real service does.
const pdsPath = "/personal-demographics/FHIR/R4"

// countingTransport stands for a caller's instrumentation around the
// SDK's transport.
type countingTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// TestMutualTLS runs the client against a PDS that demands a client
// certificate (an HSCN set-up): refused without one, served with one, and
// with the caller's own instrumentation around its transport.
func TestMutualTLS(t *testing.T) {
	ca, err := testcert.NewCA()
	require.NoError(t, err)
	cert, err := ca.Client("riverside-epr")
	require.NoError(t, err)
	fake, err := pdstest.NewUnstartedServer()
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(fake.Handler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	base := srv.URL + pdsPath
	ctx := context.Background()

	without, err := pds.NewClient(base, pds.WithHTTPClient(testcert.HTTPClient(nil, roots)), pds.WithMaxAttempts(1))
	require.NoError(t, err)
	_, err = without.Get(ctx, pdstest.Patients.Normal)
	require.Error(t, err, "no client certificate, no answer")

	var n atomic.Int64
	with, err := pds.NewClient(base, pds.WithHTTPClient(mtlsCounting(&cert, roots, &n)))
	require.NoError(t, err)
	p, err := with.Get(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Equal(t, pdstest.Patients.Normal, p.NHSNumber())
	assert.EqualValues(t, 1, n.Load(), "the caller's transport saw the request")
}

// mtlsCounting is an application's mutual TLS client with its own
// instrumentation around the transport.
func mtlsCounting(cert *tls.Certificate, roots *x509.CertPool, n *atomic.Int64) *http.Client {
	hc := testcert.HTTPClient(cert, roots)
	hc.Transport = countingTransport{hc.Transport, n}
	return hc
}
