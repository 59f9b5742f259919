package shcrtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/testcert"
	"github.com/shcrkit/shcrkit/nrls"
)

// Proxy is a fake Spine Secure Proxy: it takes GET <proxy>/<percent-encoded
// provider URL>, checks the Ssp-* headers, and forwards the request to the
// provider over TLS with its own client certificate, which the fake ShCRs
// made WithTrustedProxy accept. NewWorld starts one in front of the
// world's regions (World.Proxy); only those regions are reached, anything
// else is refused. It is safe for concurrent use.
//
// Where it differs from the real proxy: there is no mutual TLS with the
// consumer, no check of the consumer's endpoint registration or of the
// interaction against a contract, and no audit beyond Requests.
//
// It is built on the same base as the fakes: URL, Close, Requests,
// InjectFault, ClearFaults, SetLatency.
type Proxy struct {
	*fake.Server

	cert         tls.Certificate
	consumerASID string

	mu        sync.RWMutex
	providers map[string]string // origin -> ASID
	roots     *x509.CertPool
	client    *http.Client
}

// newProxy starts a fake Spine Secure Proxy. consumerASID, when set, is
// the only Ssp-From it accepts.
func newProxy(consumerASID string) (*Proxy, error) {
	cert, err := testcert.SelfSignedClient("shcrtest spine secure proxy")
	if err != nil {
		return nil, err
	}
	p := &Proxy{cert: cert, consumerASID: consumerASID, providers: make(map[string]string), roots: x509.NewCertPool()}
	p.rebuildClient()
	p.Server = fake.New(fake.Settings{}, fake.Spec{Handler: http.HandlerFunc(p.serve)})
	p.Start()
	return p, nil
}

// certificate returns the client certificate the proxy presents to
// providers; pass it to WithTrustedProxy.
func (p *Proxy) certificate() *x509.Certificate { return p.cert.Leaf }

// addProvider lets the proxy forward to a fake ShCR, which must serve TLS
// and have an ASID.
func (p *Proxy) addProvider(s *Server) error {
	if s.Certificate() == nil || s.asid() == "" || s.URL == "" {
		return fmt.Errorf("%w: a provider behind the proxy must be started, serve TLS and have an ASID", shcrkit.ErrInvalidOption)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.providers[origin(u)] = s.asid()
	p.roots.AddCert(s.Certificate())
	p.mu.Unlock()
	p.rebuildClient()
	return nil
}

func (p *Proxy) rebuildClient() {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{Certificates: []tls.Certificate{p.cert}, RootCAs: p.roots, MinVersion: tls.VersionTLS12}
	t.MaxIdleConnsPerHost = 32
	p.client = &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// forwarded are the headers the proxy passes on to the provider.
var forwarded = []string{"Authorization", "Accept", "X-Request-ID", "X-Correlation-ID", "Ssp-TraceID", "Ssp-From",
	"Ssp-To", "Ssp-InteractionID", "NHSD-End-User-Organisation-ODS", "User-Agent",
	"X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Prefix"}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/"))
	target, perr := url.Parse(raw)
	if err != nil || perr != nil || target.Scheme != "https" || target.Host == "" {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadRequest, Code: "INVALID_REQUEST", Diagnostics: "the path is not a percent-encoded https URL"})
		return
	}
	if r.Method != http.MethodGet {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusMethodNotAllowed, Code: "INVALID_METHOD", Diagnostics: "only reads are proxied"})
		return
	}
	p.mu.RLock()
	asid, known := p.providers[origin(target)]
	client := p.client
	p.mu.RUnlock()
	var problems []string
	if !known {
		problems = append(problems, "the target is not a registered provider endpoint")
	}
	if _, err := uuid.Parse(r.Header.Get("Ssp-TraceID")); err != nil {
		problems = append(problems, "Ssp-TraceID must be a UUID")
	}
	if from := r.Header.Get("Ssp-From"); len(from) != 12 || (p.consumerASID != "" && from != p.consumerASID) {
		problems = append(problems, "Ssp-From is not the registered consumer ASID")
	}
	if known && r.Header.Get("Ssp-To") != asid {
		problems = append(problems, "Ssp-To does not match the target's ASID")
	}
	if r.Header.Get("Ssp-InteractionID") != nrls.SSPInteractionRead {
		problems = append(problems, "Ssp-InteractionID is not an interaction the proxy serves")
	}
	if len(problems) > 0 {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusForbidden, Code: "ACCESS_DENIED", Diagnostics: strings.Join(problems, "; ")})
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target.String(), nil)
	if err != nil {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadRequest, Code: "INVALID_REQUEST", Diagnostics: "target does not parse"})
		return
	}
	for _, h := range forwarded {
		if v := r.Header.Values(h); len(v) > 0 {
			out.Header[http.CanonicalHeaderKey(h)] = v
		}
	}
	resp, err := client.Do(out)
	if err != nil {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadGateway, Code: "UNABLE_TO_CALL_SERVICE", Diagnostics: "the provider could not be reached"})
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Content-Length", "X-Request-Id", "X-Correlation-Id", "Retry-After"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(flushWriter{w}, resp.Body)
}

// flushWriter flushes after every write, so a dripping provider drips
// through the proxy too.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}
