package fhirhttp

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
)

// TLS is what mutual TLS to a service needs: the client certificate to
// present and the roots to verify the server with. Nil fields leave the
// transport's own (no client certificate; the system roots).
type TLS struct {
	Certificate *tls.Certificate
	RootCAs     *x509.CertPool
}

// WrapTransport lets a caller put its own RoundTripper (OpenTelemetry's
// otelhttp, a metrics or logging layer) around the transport the SDK
// builds, after the SDK has set TLS on it: the two compose instead of the
// caller having to hand over an *http.Transport.
type WrapTransport func(http.RoundTripper) http.RoundTripper

// WithTLS returns a copy of base whose TLS configuration presents t's
// certificate and trusts t's roots. base must be an *http.Transport (the
// SDK's default is); a caller's own RoundTripper goes around it through
// WrapTransport instead.
func WithTLS(base http.RoundTripper, t *TLS) (http.RoundTripper, error) {
	if t == nil {
		return base, nil
	}
	var tr *http.Transport
	switch b := base.(type) {
	case nil:
		tr = defaultTransport()
	case *http.Transport:
		tr = b.Clone()
	default:
		return nil, fmt.Errorf("%w: mutual TLS is set on the SDK's own *http.Transport; put a %T around it with a transport wrapper instead", ErrInvalidOption, base)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	}
	if t.Certificate != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*t.Certificate}
	}
	if t.RootCAs != nil {
		tr.TLSClientConfig.RootCAs = t.RootCAs
	}
	return tr, nil
}
