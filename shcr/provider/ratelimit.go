package provider

import (
	"math"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit"
)

// RateLimit bounds the requests of one consumer organisation: Rate per
// second on average, in bursts of up to Burst. The zero value means no
// limit.
type RateLimit struct {
	Rate  float64
	Burst int
}

func (l RateLimit) enabled() bool { return l.Rate > 0 }

// limiter is a token bucket per organisation. It is small enough that a
// dependency (golang.org/x/time/rate) would bring nothing but an import:
// one bucket, refilled continuously, answered with the wait a refusal
// implies for Retry-After.
type limiter struct {
	mu      sync.Mutex
	buckets map[shcrkit.ODSCode]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter() *limiter { return &limiter{buckets: make(map[shcrkit.ODSCode]*bucket)} }

// take spends one token of org's bucket under l, or says how long until
// one is there.
func (lm *limiter) take(org shcrkit.ODSCode, l RateLimit, now time.Time) (bool, time.Duration) {
	if !l.enabled() {
		return true, 0
	}
	burst := float64(max(l.Burst, 1))
	lm.mu.Lock()
	defer lm.mu.Unlock()
	b, ok := lm.buckets[org]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		lm.buckets[org] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el.Seconds()*l.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.Rate * float64(time.Second))
	return false, wait
}
