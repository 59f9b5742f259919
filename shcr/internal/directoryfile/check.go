package directoryfile

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
)

// Checked is an Endpoint that passed CheckEndpoint, with its parsed
// URLs.
type Checked struct {
	Endpoint
	// Base is the parsed BaseURL; Audit the parsed AuditURL, or nil.
	Base, Audit *url.URL
	// Origins are the origins credentials may be sent to: the base URL's,
	// then the content hosts'.
	Origins []string
}

// CheckEndpoint checks e, whose Parallelism may be at most
// maxParallelism, and fills in its Audience (the base URL when e names
// none). It returns every problem found, or none and the checked
// endpoint.
func CheckEndpoint(e Endpoint, maxParallelism int) (*Checked, []string) {
	var problems []string
	if len(e.Custodians) == 0 {
		problems = append(problems, "no custodian ODS code")
	}
	// The name goes into errors and logs: one line of printable text.
	if strings.IndexFunc(e.Name, func(r rune) bool { return r < ' ' || r == 0x7f || r == utf8.RuneError }) >= 0 || len(e.Name) > 200 {
		problems = append(problems, "name must be one line of at most 200 printable bytes")
	}
	e.Custodians = slices.Clone(e.Custodians)
	for _, c := range e.Custodians {
		if !c.Valid() {
			problems = append(problems, fmt.Sprintf("custodian %q is not a valid ODS code", clip(string(c))))
		}
	}
	base, err := remotehttp.ParseServiceURL(e.BaseURL)
	if err != nil {
		problems = append(problems, "base URL "+err.Error())
	}
	ep := &Checked{Endpoint: e, Base: base}
	if e.AuditURL != "" {
		if ep.Audit, err = remotehttp.ParseServiceURL(e.AuditURL); err != nil {
			problems = append(problems, "audit URL "+err.Error())
		}
	}
	if base != nil {
		ep.Origins = append(ep.Origins, fhirhttp.Origin(base))
		if ep.Audience == "" {
			ep.Audience = serviceRoot(base)
		}
	}
	ep.ContentHosts = slices.Clone(e.ContentHosts)
	for _, h := range e.ContentHosts {
		u, err := remotehttp.ParseServiceURL(h)
		if err != nil {
			problems = append(problems, fmt.Sprintf("content host %q %v", clip(h), err))
			continue
		}
		if o := fhirhttp.Origin(u); !slices.Contains(ep.Origins, o) {
			ep.Origins = append(ep.Origins, o)
		}
	}
	if e.ASID != "" && !remotehttp.IsASID(e.ASID) {
		problems = append(problems, "ASID must be 12 digits")
	}
	if e.Timeout < 0 {
		problems = append(problems, "negative timeout")
	}
	if e.Parallelism < 0 || e.Parallelism > maxParallelism {
		problems = append(problems, fmt.Sprintf("parallelism %d is outside 0..%d", e.Parallelism, maxParallelism))
	}
	if err := e.Identity.check(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return ep, nil
}

// serviceRoot is the aud of identity tokens for the service at u, in the
// form a provider states its own service root: scheme and host in lower
// case (they are case-insensitive) and no default port, so that
// "HTTPS://North.Example:443/fhir/" and "https://north.example/fhir" name
// the same provider, as they do for the directory's origin checks. The
// path, which is case-sensitive, is kept (without a trailing slash).
func serviceRoot(u *url.URL) string {
	r := *u
	r.Scheme = strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (r.Scheme == "https" && port == "443") || (r.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		r.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		r.Host = "[" + host + "]"
	} else {
		r.Host = host
	}
	return r.String()
}

// CheckedSSP is an SSP that passed CheckSSP, with its parsed proxy URL.
type CheckedSSP struct {
	SSP
	Proxy  *url.URL
	Origin string
}

// CheckSSP checks s and fills in its InteractionID (nrls.SSPInteractionRead
// when s names none). It returns every problem found, or none and the
// checked proxy.
func CheckSSP(s SSP) (*CheckedSSP, []string) {
	var problems []string
	u, err := remotehttp.ParseServiceURL(s.ProxyURL)
	if err != nil {
		problems = append(problems, "proxy URL "+err.Error())
	}
	if !remotehttp.IsASID(s.ConsumerASID) {
		problems = append(problems, "consumer ASID must be 12 digits")
	}
	if s.InteractionID == "" {
		s.InteractionID = nrls.SSPInteractionRead
	} else if strings.ContainsAny(s.InteractionID, "\r\n") {
		problems = append(problems, "interaction ID must be one line")
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &CheckedSSP{SSP: s, Proxy: u, Origin: fhirhttp.Origin(u)}, nil
}

// method is how tokens are signed: jws.None when Signing is "".
func (id Identity) method() jws.Algorithm {
	if id.Signing == "" {
		return jws.None
	}
	return id.Signing
}

// check checks the signing method, the key it needs and the header.
func (id Identity) check() error {
	if id.Header != "" && (strings.ContainsAny(id.Header, " \r\n:") ||
		strings.EqualFold(textproto.CanonicalMIMEHeaderKey(id.Header), "Authorization")) {
		return fmt.Errorf("identity header %q is not a usable header name", clip(id.Header))
	}
	m := id.method()
	switch {
	case m == jws.None:
		if id.Key != nil {
			return errors.New("an unsigned identity token takes no key")
		}
		return nil
	case !m.Valid():
		return fmt.Errorf("unknown signing method %q (want none, RS256, RS384, RS512, ES256, ES384 or ES512)", clip(string(id.Signing)))
	case id.Key == nil:
		return fmt.Errorf("%s identity tokens need a key", m)
	}
	if err := m.CheckSigner(id.Key); err != nil {
		return fmt.Errorf("%s identity tokens: %w", m, err)
	}
	return nil
}

// HeaderName is the header identity tokens travel in.
func (id Identity) HeaderName() string {
	if id.Header == "" {
		return identitytoken.DefaultHeader
	}
	return id.Header
}

// Sign signs the claims of an identity token as id says.
func (id Identity) Sign(c identitytoken.Claims) (string, error) {
	return identitytoken.Sign(id.method(), id.Key, id.KeyID, c)
}
