package fake

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Middleware wraps a fake's handler with what every fake does around its
// service logic: recording, fault injection and bearer-token checks. Its
// fields may be nil.
type Middleware struct {
	// Recorder keeps every request received.
	Recorder *Recorder
	// Faults are consulted for every request.
	Faults *Faults
	// Validate, when set, must accept the bearer token of every request;
	// requests without one, or with one it rejects, are refused with Deny.
	Validate func(token string) error
	// Deny answers a request whose token was missing or refused; the
	// default is 401 with an OperationOutcome coded ACCESS_DENIED.
	Deny func(w http.ResponseWriter, r *http.Request, err error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Public, when set, picks out requests that need no bearer token even
	// with Validate set, such as GET <base>/metadata (the capability
	// statement clients fetch before they authenticate).
	Public func(r *http.Request) bool
	// Identities, when set and holding any binding, must place the bearer
	// token of every request and find the request's identity headers
	// matching it (Public requests excepted); a request that fails is
	// refused with DenyIdentity.
	Identities *Identities
	// DenyIdentity answers a request whose identity headers do not match
	// its token (an *IdentityError); the default is 403 with an
	// OperationOutcome coded ACCESS_DENIED.
	DenyIdentity func(w http.ResponseWriter, r *http.Request, err error)
	// WriteFault, when set, answers an injected fault with a Status in the
	// fake's own error format; the default is an OperationOutcome.
	WriteFault func(w http.ResponseWriter, r *http.Request, f Fault)

	latency atomic.Int64
}

// SetLatency delays every answer by d, before any fault is applied, until
// it is set again; 0 removes the delay. Unlike a latency Fault it leaves
// the injected faults alone. It is safe to call while serving.
//
// A read (GET or HEAD, or a FHIR search by POST to _search) with no
// fault to apply is served at once and its
// answer held back until d after the request arrived, as a remote
// service's own work is part of the time it takes to answer; any other
// request waits d before it is served.
func (m *Middleware) SetLatency(d time.Duration) { m.latency.Store(int64(max(d, 0))) }

// Wrap returns next with the middleware around it.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		sw, done := m.record(w, r)
		defer done()
		var f Fault
		if m.Faults != nil {
			f, _ = m.Faults.take(r)
		}
		if d := time.Duration(m.latency.Load()); d > 0 && f == (Fault{}) && isRead(r) {
			lw := &lateWriter{statusWriter: sw, r: r, at: arrived.Add(d)}
			if !m.denied(lw, r) {
				next.ServeHTTP(lw, r)
			}
			lw.wait()
			return
		}
		f, answered := m.injectFault(sw, r, f)
		if answered || m.denied(sw, r) {
			return
		}
		switch {
		case f.AfterServing && f.Status != 0:
			next.ServeHTTP(&bufferWriter{header: make(http.Header)}, r)
			m.writeFault(sw, r, f)
		case f.Truncate == 0 && f.Drip == 0 && f.Oversize == 0:
			next.ServeHTTP(sw, r)
		default:
			serveSpoiled(sw, r, next, f)
		}
	})
}

// record buffers the request body so it can be read again, and records the
// request and, through done, its final status if there is a Recorder.
func (m *Middleware) record(w http.ResponseWriter, r *http.Request) (sw *statusWriter, done func()) {
	body := []byte{}
	switch r.Body {
	case nil, http.NoBody:
		// Nothing to read, nor to buffer.
		r.Body = http.NoBody
	default:
		body, _ = io.ReadAll(io.LimitReader(r.Body, 32<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	sw = &statusWriter{ResponseWriter: w}
	if m.Recorder == nil {
		return sw, func() {}
	}
	rec := m.Recorder.add(Request{Time: now(), Method: r.Method, Path: r.URL.Path,
		Query: cloneValues(r.URL.Query()), Header: r.Header.Clone(), Body: body})
	sw.onStatus = func(code int) { m.Recorder.setStatus(rec, code) }
	return sw, func() { m.Recorder.setStatus(rec, sw.status) }
}

// injectFault applies the set latency and f, the fault taken for r. It
// reports whether the request has been answered (or the client went
// away), and returns the fault so that the caller can spoil the answer as
// asked.
func (m *Middleware) injectFault(sw *statusWriter, r *http.Request, f Fault) (Fault, bool) {
	if d := time.Duration(m.latency.Load()); d > 0 && !sleepCtx(r, d) {
		sw.setStatus(499) // client went away
		return Fault{}, true
	}
	if f.Latency > 0 && !sleepCtx(r, f.Latency) {
		sw.setStatus(499) // client went away
		return f, true
	}
	if f.Hang {
		<-r.Context().Done()
		sw.setStatus(499)
		return f, true
	}
	if f.Reset {
		sw.setStatus(499)
		resetConnection(sw.ResponseWriter)
		return f, true
	}
	if f.Status != 0 && !f.AfterServing {
		m.writeFault(sw, r, f)
		return f, true
	}
	return f, false
}

// writeFault answers with the error of a fault with a Status.
func (m *Middleware) writeFault(sw *statusWriter, r *http.Request, f Fault) {
	if f.RetryAfter != "" {
		sw.Header().Set("Retry-After", f.RetryAfter)
	}
	if m.WriteFault != nil {
		m.WriteFault(sw, r, f)
		return
	}
	diag := f.Diagnostics
	if diag == "" {
		diag = "injected fault"
	}
	WriteOutcome(sw, Outcome{Status: f.Status, Code: f.Code, Diagnostics: diag})
}

// denied checks the access token and the identity token of a request that
// is not public, and reports whether it was refused.
func (m *Middleware) denied(w http.ResponseWriter, r *http.Request) bool {
	if m.Validate != nil && (m.Public == nil || !m.Public(r)) {
		if err := m.checkToken(r); err != nil {
			deny := m.Deny
			if deny == nil {
				deny = denyAccess
			}
			deny(w, r, err)
			return true
		}
	}
	if m.Identities.enabled() && (m.Public == nil || !m.Public(r)) {
		if err := m.Identities.check(r); err != nil {
			deny := m.DenyIdentity
			if deny == nil {
				deny = denyIdentity
			}
			deny(w, r, err)
			return true
		}
	}
	return false
}

// serveSpoiled serves r into a buffer, then writes the answer spoiled as f
// asks: padded, truncated or dripped.
func serveSpoiled(sw *statusWriter, r *http.Request, next http.Handler, f Fault) {
	buf := &bufferWriter{header: make(http.Header), status: http.StatusOK}
	next.ServeHTTP(buf, r)
	for k, v := range buf.header {
		sw.Header()[k] = v
	}
	out := buf.body.Bytes()
	if f.Oversize > 0 {
		out = append(out, bytes.Repeat([]byte(" "), f.Oversize)...)
	}
	sw.Header().Set("Content-Length", strconv.Itoa(len(out)))
	sw.WriteHeader(buf.status)
	switch {
	case f.Truncate > 0 && f.Truncate < len(out):
		_, _ = sw.Write(out[:f.Truncate])
		// Ending the handler with fewer bytes than declared makes the
		// server close the connection: the client sees a short body.
	case f.Drip > 0:
		fl, _ := sw.ResponseWriter.(http.Flusher)
		for i := range out {
			if _, err := sw.Write(out[i : i+1]); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
			if !sleepCtx(r, f.Drip) {
				return
			}
		}
	default:
		_, _ = sw.Write(out)
	}
}

func (m *Middleware) checkToken(r *http.Request) error {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return errMissingToken
	}
	return m.Validate(strings.TrimSpace(tok))
}

type tokenError string

func (e tokenError) Error() string { return string(e) }

const errMissingToken = tokenError("missing bearer token")

func denyAccess(w http.ResponseWriter, _ *http.Request, err error) {
	WriteOutcome(w, Outcome{Status: http.StatusUnauthorized, Code: "ACCESS_DENIED",
		Display: "Access Denied - Unauthorised", Diagnostics: "Invalid access token"})
}

// sleepCtx waits d or until the client goes away; it reports whether the
// full wait passed.
func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// isRead reports whether r only reads: a GET or HEAD, or a FHIR search
// made with POST to [base]/[type]/_search.
func isRead(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		return strings.HasSuffix(r.URL.Path, "/_search")
	}
	return false
}

// lateWriter holds an answer back until at: its first header or byte
// waits for then, so that the work before it is done within the
// latency. A client gone by then is noted as 499 and sent nothing.
type lateWriter struct {
	*statusWriter
	r            *http.Request
	at           time.Time
	waited, gone bool
}

// wait waits until the answer's time, once, and reports whether the
// client is still there.
func (l *lateWriter) wait() bool {
	if !l.waited {
		l.waited = true
		if d := time.Until(l.at); d > 0 && !sleepCtx(l.r, d) {
			l.gone = true
			l.setStatus(499)
		}
	}
	return !l.gone
}

func (l *lateWriter) WriteHeader(code int) {
	if l.wait() {
		l.statusWriter.WriteHeader(code)
	}
}

func (l *lateWriter) Write(b []byte) (int, error) {
	if !l.wait() {
		return 0, context.Cause(l.r.Context())
	}
	return l.statusWriter.Write(b)
}

func (l *lateWriter) Flush() {
	if l.wait() {
		l.statusWriter.Flush()
	}
}

// statusWriter notes the status of an answer before it goes out.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onStatus func(int)
}

func (s *statusWriter) setStatus(code int) {
	if s.status == 0 {
		s.status = code
		if s.onStatus != nil {
			s.onStatus(code)
		}
	}
}

func (s *statusWriter) WriteHeader(code int) {
	s.setStatus(code)
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.setStatus(http.StatusOK)
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) { b.wrote = true; return b.body.Write(p) }

// EchoIDs mirrors X-Request-ID and X-Correlation-ID into every answer,
// error answers and injected faults included, as the national services do.
func EchoIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Request-ID"); id != "" {
			w.Header().Set("X-Request-ID", id)
		}
		if id := r.Header.Get("X-Correlation-ID"); id != "" {
			w.Header().Set("X-Correlation-ID", id)
		}
		next.ServeHTTP(w, r)
	})
}

// IsUUID reports whether s is a UUID in its 8-4-4-4-12 hexadecimal form,
// the only form the services take as an X-Request-ID.
func IsUUID(s string) bool { return fhirhttp.IsUUID(s) }

// resetConnection drops the request's connection with a TCP reset where
// it can (linger 0), or closes it.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
