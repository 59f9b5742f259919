package fake

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Request is a request as a fake received it.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Status is the status the fake answered with.
	Status int
}

// Recorder keeps the requests a fake received. It is safe for concurrent
// use and hands out copies. It keeps the most recent ones only, up to
// maxRecorded requests and maxRecordedBytes of their bodies, so that a
// fake serving for days (the sandbox) does not grow without end.
type Recorder struct {
	mu      sync.Mutex
	reqs    []*Request
	bytes   int   // of the bodies in reqs
	dropped int64 // requests forgotten to stay within the bounds
}

// The bounds of a Recorder.
const (
	maxRecorded      = 10000
	maxRecordedBytes = 64 << 20
)

// add records req as it arrives, before it is served, so that a client
// that has its answer always finds its request recorded.
func (r *Recorder) add(req Request) *Request {
	p := &req
	r.mu.Lock()
	r.reqs = append(r.reqs, p)
	r.bytes += len(p.Body)
	if len(r.reqs) > maxRecorded || r.bytes > maxRecordedBytes {
		r.forgetOldest()
	}
	r.mu.Unlock()
	return p
}

// forgetOldest drops the oldest requests until the bounds hold, and then
// a tenth more of maxRecorded, so that the slice is not shifted at every
// request; the kept ones move to a new slice, freeing the old.
func (r *Recorder) forgetOldest() {
	n := 0
	for n < len(r.reqs)-1 && (len(r.reqs)-n > maxRecorded-maxRecorded/10 || r.bytes > maxRecordedBytes) {
		r.bytes -= len(r.reqs[n].Body)
		n++
	}
	r.reqs = append([]*Request(nil), r.reqs[n:]...)
	r.dropped += int64(n)
}

// setStatus records the status of a request; it is called before the
// status goes out.
func (r *Recorder) setStatus(req *Request, status int) {
	r.mu.Lock()
	if req.Status == 0 {
		req.Status = status
	}
	r.mu.Unlock()
}

// Requests returns copies of the requests received so far, oldest first:
// the most recent 10,000 at most, and fewer when their bodies exceed
// 64 MiB.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Request, len(r.reqs))
	for i, q := range r.reqs {
		out[i] = q.clone()
	}
	return out
}

// Reset forgets every recorded request.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.reqs, r.bytes, r.dropped = nil, 0, 0
	r.mu.Unlock()
}

// Len returns the number of requests received since the last Reset,
// those no longer kept included.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs) + int(r.dropped)
}

func (q Request) clone() Request {
	c := q
	c.Query = cloneValues(q.Query)
	c.Header = q.Header.Clone()
	if q.Body != nil {
		c.Body = append([]byte(nil), q.Body...)
	}
	return c
}

// cloneValues deep-copies v (nil stays nil); http.Header has the same
// shape and a Clone that does exactly this.
func cloneValues(v url.Values) url.Values { return url.Values(http.Header(v).Clone()) }
