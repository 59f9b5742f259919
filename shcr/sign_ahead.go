package shcr

import (
	"cmp"
	"context"
	"net/http/httptrace"
	"slices"
	"sync"

	"github.com/shcrkit/shcrkit/internal/jws"
)

// Signing ahead. A journey's first request to an endpoint that accepts
// one identity token per journey (Endpoint.ReuseIdentity) waits for that
// token, and an RSA signature is the costliest step on this side: about
// a millisecond, spent just when every first request of the journey is
// being made. So while PDS and the NRL are asked, which is time spent
// waiting, the journey signs the tokens of the endpoints that most of
// the Remote's recent journeys retrieved from. A token signed ahead is
// the journey's own, like any other, and is used by that journey only.
//
// What a guess costs is bounded: an endpoint is signed for only while
// its share of recent journeys (a moving average, each journey weighing
// aheadWeight) is at least aheadShare, so a wrong guess is made at most
// a few times in a row; at most maxAhead endpoints per journey; and a
// journey whose patient turns out to be restricted signs its own tokens
// anew, since the restricted claim differs. Unsigned tokens cost nothing
// to make and are never made ahead.
const (
	aheadWeight = 0.25
	aheadShare  = 0.5
	maxAhead    = 8
	// aheadForget is the share below which an endpoint is no longer
	// tracked.
	aheadForget = 0.05
)

// aheadStats is the share of recent journeys that retrieved from each
// endpoint accepting token reuse. The zero value is ready to use.
type aheadStats struct {
	mu    sync.Mutex
	share map[*endpoint]float64
}

// worthSigningAhead reports whether ep's tokens are worth making ahead:
// reused within a journey, and signed.
func worthSigningAhead(ep *endpoint) bool {
	return ep.ReuseIdentity && ep.Identity.Signing != "" && ep.Identity.Signing != jws.None
}

// candidates returns the endpoints to sign ahead for, the most used
// first.
func (s *aheadStats) candidates() []*endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	var eps []*endpoint
	for ep, share := range s.share {
		if share >= aheadShare {
			eps = append(eps, ep)
		}
	}
	slices.SortFunc(eps, func(a, b *endpoint) int {
		return cmp.Or(cmp.Compare(s.share[b], s.share[a]), cmp.Compare(a.Name, b.Name))
	})
	return eps[:min(len(eps), maxAhead)]
}

// observe counts a journey that retrieved from the endpoints in used.
// An endpoint seen for the first time starts at a share of one, so the
// journey after the first that needed it signs ahead for it.
func (s *aheadStats) observe(used map[*endpoint]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ep, share := range s.share {
		if !used[ep] {
			if share = share * (1 - aheadWeight); share < aheadForget {
				delete(s.share, ep)
			} else {
				s.share[ep] = share
			}
		}
	}
	for ep := range used {
		if !worthSigningAhead(ep) {
			continue
		}
		if s.share == nil {
			s.share = make(map[*endpoint]float64)
		}
		if share, ok := s.share[ep]; ok {
			s.share[ep] = share*(1-aheadWeight) + aheadWeight
		} else {
			s.share[ep] = 1
		}
	}
}

// sentSignal returns ctx carrying an HTTP trace that closes sent once a
// request made with it has been written, and end, which closes sent if
// none was (the step failed first); end is for when the step is over.
func sentSignal(ctx context.Context) (_ context.Context, sent <-chan struct{}, end func()) {
	ch := make(chan struct{})
	var once sync.Once
	end = func() { once.Do(func() { close(ch) }) }
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { end() },
	}), ch, end
}

// startAhead signs the journey's identity tokens for eps (for Records,
// the endpoints its Remote's recent journeys retrieved from; for
// Retrieve and Search, the one they will ask), once the requests already
// made (sent: the PDS trace and the NRL search beside it) have been
// written, so that they go out first. It signs one token after another
// on one goroutine, so that the other steps keep a core; endAhead
// waits for it. Errors are left for the request that needs the token,
// which then signs it itself.
func (j *journey) startAhead(ctx context.Context, sent []<-chan struct{}, eps []*endpoint) {
	r := j.c.remote
	if len(eps) == 0 {
		return
	}
	p := fetchParams{requester: j.req.Requester, purpose: j.req.Purpose, tokens: &j.tokens}
	done := make(chan struct{})
	ctx, j.stopAhead = context.WithCancel(ctx)
	j.aheadDone = done
	go func() {
		defer close(done)
		for _, ch := range sent {
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
		for _, ep := range eps {
			if ctx.Err() != nil {
				return
			}
			_, _, _ = r.identityToken(ep, p)
		}
	}()
}

// endAhead waits for the signing startAhead began, if any, once
// stopped, when stop is set, after the token being signed: a journey
// that retrieves nothing needs no more of them. It may be called again.
func (j *journey) endAhead(stop bool) {
	if j.aheadDone == nil {
		return
	}
	if stop {
		j.stopAhead()
	}
	<-j.aheadDone
	j.stopAhead()
}
