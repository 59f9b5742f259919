package fake

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/shcrkit/shcrkit"
)

// ErrInvalidOption is matched by the error of a fake's option given a bad
// value: shcrkit.ErrInvalidOption, as for every option of the SDK.
var ErrInvalidOption = shcrkit.ErrInvalidOption

// Settings are what every fake is configured with, whatever it serves.
// Each fake's configuration holds them and hands them out with Base.
type Settings struct {
	// Now is the clock of the request log and of whatever the fake dates;
	// nil means time.Now.
	Now func() time.Time
	// Validate, when set, must accept the bearer token of every request
	// (how a fake applies it is its own: most refuse with 401).
	Validate func(token string) error
	// Resolve, when set, places bearer tokens for the identity check (see
	// Identities.SetTokenIdentities).
	Resolve func(token string) (shcrkit.Session, bool)
}

// Clock returns the Now of s, or time.Now.
func (s *Settings) Clock() func() time.Time {
	if s.Now == nil {
		return time.Now
	}
	return s.Now
}

// Configurable is a fake's own configuration, which holds the shared
// Settings.
type Configurable interface{ Base() *Settings }

// Option configures a fake whose configuration is C. Each fake declares
// its own Option type of this shape, func(*config) error, and turns the
// shared options below into it.
type Option[C any] func(*C) error

// WithClock sets the clock of the fake.
func WithClock[C any, P interface {
	*C
	Configurable
}](now func() time.Time) Option[C] {
	return func(c *C) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		P(c).Base().Now = now
		return nil
	}
}

// WithTokenValidator makes the fake check the bearer token of every
// request with validate.
func WithTokenValidator[C any, P interface {
	*C
	Configurable
}](validate func(token string) error) Option[C] {
	return func(c *C) error {
		if validate == nil {
			return fmt.Errorf("%w: nil token validator", ErrInvalidOption)
		}
		P(c).Base().Validate = validate
		return nil
	}
}

// WithTokenIdentities makes the fake place each request's bearer token
// with resolve and check the request's identity headers against it.
func WithTokenIdentities[C any, P interface {
	*C
	Configurable
}](resolve func(token string) (shcrkit.Session, bool)) Option[C] {
	return func(c *C) error {
		if resolve == nil {
			return fmt.Errorf("%w: nil token identity resolver", ErrInvalidOption)
		}
		P(c).Base().Resolve = resolve
		return nil
	}
}

// Apply runs opts on c in order, stopping at the first error; a nil
// option is an error. O is the fake's own Option type, of the same shape
// as Option[C].
func Apply[C any, O ~func(*C) error](c *C, opts []O) error {
	for _, o := range opts {
		if o == nil {
			return fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := o(c); err != nil {
			return err
		}
	}
	return nil
}

// Spec is what a fake tells the base server about itself.
type Spec struct {
	// Path is appended to the listening address to make URL: the
	// service root of the fake ("" for the server's root).
	Path string
	// Handler serves the fake's own API, behind the recording, faults,
	// latency and token checks of Middleware.
	Handler http.Handler
	// Middleware is the middleware around Handler; New fills in its
	// Recorder, Faults and Now. Nil means a plain one.
	Middleware *Middleware
	// EchoIDs mirrors X-Request-ID and X-Correlation-ID into every answer.
	EchoIDs bool
	// FaultPrefix is put in front of the path given to InjectFault; for a
	// fake whose paths are relative to its service root.
	FaultPrefix string
	// FaultCodes gives the error code of an injected fault with a Status
	// and no Code.
	FaultCodes map[int]string
	// TLS, when set, makes Start serve TLS with this configuration.
	TLS *tls.Config
	// OnReset, when set, is called by ResetRequests, for a fake that
	// keeps records of its own beside the request log.
	OnReset func()
}

// Server is the httptest-like base of every fake: a listener on a
// loopback address, a request log, injected faults and latency. A fake
// embeds it and adds its service. It is safe for concurrent use.
type Server struct {
	// URL is the fake's service root, <scheme>://127.0.0.1:<port> followed
	// by its path, once started.
	URL string

	ts          *httptest.Server
	handler     http.Handler
	mw          *Middleware
	rec         Recorder
	faults      Faults
	tls         bool
	conns       atomic.Int64
	path        string
	faultPrefix string
	faultCodes  map[int]string
	onReset     func()
}

// New returns a base server, not yet listening, for a fake with settings
// st as spec describes it.
func New(st Settings, spec Spec) *Server {
	s := &Server{path: spec.Path, faultPrefix: spec.FaultPrefix, faultCodes: spec.FaultCodes, tls: spec.TLS != nil,
		onReset: spec.OnReset}
	mw := spec.Middleware
	if mw == nil {
		mw = &Middleware{}
	}
	mw.Recorder, mw.Faults, mw.Now = &s.rec, &s.faults, st.Clock()
	s.mw = mw
	h := mw.Wrap(spec.Handler)
	if spec.EchoIDs {
		h = EchoIDs(h)
	}
	s.handler = h
	s.ts = httptest.NewUnstartedServer(h)
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if spec.TLS != nil {
		s.ts.TLS = spec.TLS
	}
	return s
}

// Started starts s, a fake that its NewUnstartedServer returned with err,
// and returns it; it panics with err instead, as httptest.NewServer panics
// when it cannot listen. It is every fake's NewServer.
func Started[S interface{ Start() }](s S, err error) S {
	s = Must(s, err)
	s.Start()
	return s
}

// Must returns v, or panics with err: a fake's Client, which a test
// cannot go on without, is its NewClient made to panic.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Start starts listening, as httptest.Server.Start does (StartTLS for a
// fake serving TLS), and sets URL.
func (s *Server) Start() {
	if s.tls {
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.URL = s.ts.URL + s.path
}

// Close shuts the fake down, ending requests in progress.
func (s *Server) Close() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// Handler returns the fake's whole handler (recording, faults and all),
// for mounting in another server, such as a sandbox of several fakes.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPClient returns an HTTP client for the fake that trusts its TLS
// certificate, if it serves TLS.
func (s *Server) HTTPClient() *http.Client { return s.ts.Client() }

// Certificate returns the fake's TLS certificate, or nil when it does not
// serve TLS.
func (s *Server) Certificate() *x509.Certificate {
	if !s.tls {
		return nil
	}
	return s.ts.Certificate()
}

// Connections returns the number of connections clients have opened to
// the fake since it started, so that a test can tell connection reuse
// from dialling anew.
func (s *Server) Connections() int64 { return s.conns.Load() }

// Requests returns copies of the requests received so far, oldest first,
// each with the status it was answered.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// ResetRequests forgets the requests received so far, and whatever else
// the fake records of them.
func (s *Server) ResetRequests() {
	s.rec.Reset()
	if s.onReset != nil {
		s.onReset()
	}
}

// InjectFault makes the next n requests (n < 0: all, until ClearFaults)
// whose method matches ("" matches any) and whose path starts with path
// ("" matches any) go wrong as f says: a delay, an error answer (a Status
// without a Code carries the code the service sends with that status,
// where there is one), a truncated, oversized, dripping or hanging answer,
// a reset connection. Each fake's documentation says what its paths are
// relative to.
func (s *Server) InjectFault(method, path string, n int, f Fault) {
	if f.Status != 0 && f.Code == "" {
		f.Code = s.faultCodes[f.Status]
	}
	s.faults.Add(method, s.faultPrefix+path, n, f)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// SetLatency delays every answer by d until it is set again (0 removes
// the delay), before any injected fault, which it leaves alone.
func (s *Server) SetLatency(d time.Duration) { s.mw.SetLatency(d) }
