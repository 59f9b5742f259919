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
// use and hands out copies. It keeps the most recent ones only (Kept):
// 10,000 requests and 64 MiB of their bodies at most.
type Recorder struct {
	mu   sync.Mutex
	reqs Kept[*Request]
}

// add records req as it arrives, before it is served, so that a client
// that has its answer always finds its request recorded.
func (r *Recorder) add(req Request) *Request {
	p := &req
	r.mu.Lock()
	r.reqs.Add(p, len(p.Body))
	r.mu.Unlock()
	return p
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
	kept := r.reqs.Items()
	out := make([]Request, len(kept))
	for i, q := range kept {
		out[i] = q.clone()
	}
	return out
}

// Reset forgets every recorded request.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.reqs.Reset()
	r.mu.Unlock()
}

// Len returns the number of requests received since the last Reset,
// those no longer kept included.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs.Len()
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
