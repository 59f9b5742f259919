package provider

import (
	"sync"
	"time"
)

// replayCache remembers the identity tokens seen until they expire, so a
// token presented again within its lifetime is caught. It is bounded: when
// full of unexpired tokens it refuses new ones (fail closed) rather than
// forget old ones.
type replayCache struct {
	mu    sync.Mutex
	seen  map[string]*seenToken
	max   int
	sweep time.Time // next time expired entries are dropped
}

type seenToken struct {
	expiry time.Time
	uses   int
}

func newReplayCache(max int) *replayCache {
	return &replayCache{seen: make(map[string]*seenToken), max: max}
}

// replayVerdict is the cache's answer for one presentation.
type replayVerdict uint8

const (
	replayFirst replayVerdict = iota
	replayAllowedReuse
	replayRefused
	replayFull
)

// use records one presentation of the token key, valid until expiry,
// which may be presented at most uses times in all.
func (c *replayCache) use(key string, expiry, now time.Time, uses int) replayVerdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.sweep) || len(c.seen) >= c.max {
		for k, s := range c.seen {
			if now.After(s.expiry) {
				delete(c.seen, k)
			}
		}
		c.sweep = now.Add(time.Minute)
	}
	if s, ok := c.seen[key]; ok && !now.After(s.expiry) {
		if s.uses >= uses {
			return replayRefused
		}
		s.uses++
		return replayAllowedReuse
	}
	if len(c.seen) >= c.max {
		return replayFull
	}
	c.seen[key] = &seenToken{expiry: expiry, uses: 1}
	return replayFirst
}

// giveBack undoes one presentation of key that use counted, for an
// access that was then not served.
func (c *replayCache) giveBack(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.seen[key]; ok {
		if s.uses--; s.uses <= 0 {
			delete(c.seen, key)
		}
	}
}
