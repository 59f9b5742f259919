package shcr

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/shcr/internal/directoryfile"
	"golang.org/x/oauth2"
)

// Endpoint is how to reach one remote shared care record and how to
// authenticate to it. Only the hosts an Endpoint names ever receive its
// credentials.
type Endpoint struct {
	// Name is a display name for logs and errors ("North Region ShCR").
	Name string
	// Custodians are the ODS codes of the organisations whose records this
	// endpoint serves: the custodian codes of their NRL pointers. At least
	// one is required, and a code may belong to one endpoint only.
	Custodians []shcrkit.ODSCode
	// BaseURL is the service root, an absolute http or https URL. Its
	// scheme, host and port make the endpoint's first allowed origin.
	BaseURL string
	// ContentHosts are further origins ("https://docs.north.example") that
	// serve this endpoint's documents. Pointer URLs on any other origin are
	// refused.
	ContentHosts []string
	// TokenSource supplies the OAuth2 access tokens sent as Authorization:
	// Bearer: client credentials with a signed client assertion (package
	// auth), or any other source. Nil sends no access token; the identity
	// token then travels in Authorization, as in GP Connect.
	TokenSource oauth2.TokenSource
	// Certificate is the client certificate for mutual TLS, or nil.
	Certificate *tls.Certificate
	// RootCAs verifies the endpoint's server certificate; nil means the
	// system roots (or those of the HTTP client's transport).
	RootCAs *x509.CertPool
	// Audience is the aud claim of identity tokens for this endpoint; ""
	// means BaseURL.
	Audience string
	// Identity says how identity tokens for this endpoint are signed and
	// where they are sent.
	Identity Identity
	// ASID is the provider's 12-digit Spine ASID, used as Ssp-To when a
	// pointer routed through SSP carries none.
	ASID string
	// Timeout bounds one retrieval from this endpoint, overriding the
	// journey's per-custodian timeout when non-zero.
	Timeout time.Duration
	// Parallelism bounds the requests in flight to this endpoint at once,
	// 1 to 256; 0 means the Remote's default (RemoteConfig.Parallelism, or
	// Config.Parallelism for a journey Client). A streamed document holds
	// its place until its body is closed.
	Parallelism int
	// ReuseIdentity says that the provider accepts one identity token for
	// every request of a journey to this endpoint (as shcr/provider's
	// Consumer.IdentityReuse allows), so a journey signs one token per
	// endpoint rather than one per request. That token is signed while
	// PDS (and the NRL) are asked, so that no first request waits for a
	// signature: by Retrieve and Search, which know the endpoint then,
	// and by Records when most of the Remote's recent journeys retrieved
	// from the endpoint. The token is still the journey's own.
	ReuseIdentity bool
	// AuditURL is the base URL of the custodian ShCR's own FHIR audit
	// repository, where a CustodianAudit sends an AuditEvent for every
	// retrieval from it, so that the patient's home region can answer
	// "who viewed my record". "" means the custodian takes none.
	AuditURL string
}

// SSP configures the Spine Secure Proxy, through which pointers with an
// ssp:// URL are retrieved.
type SSP struct {
	// ProxyURL is the proxy's base URL; the percent-encoded target URL is
	// appended to it.
	ProxyURL string
	// ConsumerASID is this system's 12-digit ASID, sent as Ssp-From.
	ConsumerASID string
	// InteractionID is sent as Ssp-InteractionID; "" means
	// nrls.SSPInteractionRead, the interaction of retrieving a pointer's
	// content.
	InteractionID string
	// TokenSource, when set, supplies an access token for the proxy; the
	// identity token then travels in X-Identity-Token.
	TokenSource oauth2.TokenSource
	// Certificate is the client certificate for mutual TLS with the proxy.
	Certificate *tls.Certificate
	// RootCAs verifies the proxy's certificate; nil means the system roots.
	RootCAs *x509.CertPool
}

// Directory maps custodian ODS codes to the remote ShCR endpoints that
// serve them, and names the SSP proxy. It is the allow-list of every host
// that may receive credentials. A Directory is immutable and safe for
// concurrent use.
type Directory struct {
	endpoints []*endpoint
	byODS     map[shcrkit.ODSCode]*endpoint
	ssp       *sspRoute
}

// endpoint is a validated Endpoint with its parsed URLs.
type endpoint struct {
	directoryfile.Endpoint
	base    *url.URL
	origins []string
	audit   *url.URL
}

// sspRoute is a validated SSP.
type sspRoute struct {
	directoryfile.SSP
	proxy  *url.URL
	origin string
}

// DirectoryConfig is what a Directory is built from.
type DirectoryConfig struct {
	// Endpoints are the remote ShCRs.
	Endpoints []Endpoint
	// SSP is the Spine Secure Proxy, or nil when no pointer is to be
	// retrieved through it.
	SSP *SSP
}

// NewDirectory checks cfg and builds a Directory from it. Every problem
// found is reported at once, each matching ErrInvalidDirectory.
func NewDirectory(cfg DirectoryConfig) (*Directory, error) {
	f := &directoryfile.File{Endpoints: make([]directoryfile.Endpoint, len(cfg.Endpoints))}
	for i, e := range cfg.Endpoints {
		f.Endpoints[i] = directoryfile.Endpoint{
			Name: e.Name, Custodians: e.Custodians, BaseURL: e.BaseURL, ContentHosts: e.ContentHosts,
			TokenSource: e.TokenSource, Certificate: e.Certificate, RootCAs: e.RootCAs, Audience: e.Audience,
			Identity: directoryfile.Identity(e.Identity), ASID: e.ASID, Timeout: e.Timeout, Parallelism: e.Parallelism,
			ReuseIdentity: e.ReuseIdentity, AuditURL: e.AuditURL,
		}
	}
	if cfg.SSP != nil {
		ssp := directoryfile.SSP(*cfg.SSP)
		f.SSP = &ssp
	}
	return newDirectory(f)
}

// newDirectory checks f and builds a Directory from it.
func newDirectory(f *directoryfile.File) (*Directory, error) {
	d := &Directory{byODS: make(map[shcrkit.ODSCode]*endpoint)}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	for i, e := range f.Endpoints {
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("endpoint %d", i+1)
		}
		c, problems := directoryfile.CheckEndpoint(e, maxParallelism)
		for _, p := range problems {
			bad("%s: %s", name, p)
		}
		if c == nil {
			continue
		}
		ep := &endpoint{Endpoint: c.Endpoint, base: c.Base, origins: c.Origins, audit: c.Audit}
		ep.Name = name
		for _, c := range ep.Custodians {
			if other, dup := d.byODS[c]; dup {
				bad("%s: custodian %s is already served by %s", name, c, other.Name)
				continue
			}
			d.byODS[c] = ep
		}
		d.endpoints = append(d.endpoints, ep)
	}
	if f.SSP != nil {
		c, problems := directoryfile.CheckSSP(*f.SSP)
		for _, p := range problems {
			bad("ssp: %s", p)
		}
		if c != nil {
			d.ssp = &sspRoute{SSP: c.SSP, proxy: c.Proxy, origin: c.Origin}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidDirectory, strings.Join(errs, "; "))
	}
	return d, nil
}

// originOf is the scheme, host and port a URL connects to, normalised so
// that "HTTPS://Host" and "https://host:443" compare equal.
func originOf(u *url.URL) string { return fhirhttp.Origin(u) }

// public is the endpoint as configured, its lists copied.
func (ep *endpoint) public() Endpoint {
	e := ep.Endpoint
	return Endpoint{
		Name: e.Name, Custodians: slices.Clone(e.Custodians), BaseURL: e.BaseURL, ContentHosts: slices.Clone(e.ContentHosts),
		TokenSource: e.TokenSource, Certificate: e.Certificate, RootCAs: e.RootCAs, Audience: e.Audience,
		Identity: Identity(e.Identity), ASID: e.ASID, Timeout: e.Timeout, Parallelism: e.Parallelism,
		ReuseIdentity: e.ReuseIdentity, AuditURL: e.AuditURL,
	}
}

// Endpoint returns the endpoint serving custodian, as configured.
func (d *Directory) Endpoint(custodian shcrkit.ODSCode) (Endpoint, bool) {
	ep, ok := d.byODS[custodian]
	if !ok {
		return Endpoint{}, false
	}
	return ep.public(), true
}

// Custodians returns the ODS codes the directory knows, sorted.
func (d *Directory) Custodians() []shcrkit.ODSCode {
	out := make([]shcrkit.ODSCode, 0, len(d.byODS))
	for c := range d.byODS {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Endpoints returns the endpoints in the order they were configured.
func (d *Directory) Endpoints() []Endpoint {
	out := make([]Endpoint, len(d.endpoints))
	for i, ep := range d.endpoints {
		out[i] = ep.public()
	}
	return out
}

// SSP returns the Spine Secure Proxy configuration, if there is one.
func (d *Directory) SSP() (SSP, bool) {
	if d.ssp == nil {
		return SSP{}, false
	}
	return SSP(d.ssp.SSP), true
}

// Allows reports whether a request to rawURL on behalf of custodian may
// carry credentials: the URL's origin must be one the directory registers
// for that custodian (for an ssp:// URL, the target's origin, with an SSP
// proxy configured). It is the check every retrieval makes before any
// connection.
func (d *Directory) Allows(custodian shcrkit.ODSCode, rawURL string) bool {
	_, err := d.route(custodian, rawURL, "")
	return err == nil
}
