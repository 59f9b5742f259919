package auth_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// countingSource hands out numbered tokens with a fixed lifetime on clk.
// When gate is set, each call waits for a value on it first.
type countingSource struct {
	clk      *fakeClock
	lifetime time.Duration
	calls    atomic.Int64
	entered  chan struct{}
	gate     chan struct{}
	err      error
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	n := s.calls.Add(1)
	if s.entered != nil {
		select {
		case s.entered <- struct{}{}:
		default:
		}
	}
	if s.gate != nil {
		<-s.gate
	}
	if s.err != nil {
		return nil, s.err
	}
	tok := &oauth2.Token{AccessToken: fmt.Sprintf("token-%d", n), TokenType: "Bearer"}
	if s.lifetime > 0 {
		tok.Expiry = s.clk.Now().Add(s.lifetime)
	}
	return tok, nil
}

func TestCacheReusesUntilMargin(t *testing.T) {
	clk := newFakeClock()
	src := &countingSource{clk: clk, lifetime: 10 * time.Minute}
	c := auth.CacheWithClock(src, time.Minute, clk.Now)

	tests := []struct {
		advance time.Duration
		want    string
	}{
		{0, "token-1"},
		{5 * time.Minute, "token-1"},
		{3*time.Minute + 59*time.Second, "token-1"}, // 8m59s: one second before the margin
		{time.Second, "token-2"},                    // 9m00s: margin reached
		{8 * time.Minute, "token-2"},
		{time.Minute, "token-3"},
	}
	for i, tt := range tests {
		clk.Advance(tt.advance)
		tok, err := c.Token()
		require.NoError(t, err)
		assert.Equal(t, tt.want, tok.AccessToken, "step %d", i)
	}
	assert.Equal(t, int64(3), src.calls.Load())
}

func TestCacheMarginShrinksForShortTokens(t *testing.T) {
	clk := newFakeClock()
	src := &countingSource{clk: clk, lifetime: 20 * time.Second}
	c := auth.CacheWithClock(src, time.Minute, clk.Now)

	tok, err := c.Token()
	require.NoError(t, err)
	clk.Advance(9 * time.Second)
	again, err := c.Token()
	require.NoError(t, err)
	assert.Same(t, tok, again, "a token shorter-lived than the margin is still reused for half its life")
	clk.Advance(time.Second)
	again, err = c.Token()
	require.NoError(t, err)
	assert.Equal(t, "token-2", again.AccessToken)
}

func TestCacheKeepsTokensWithoutExpiry(t *testing.T) {
	clk := newFakeClock()
	src := &countingSource{clk: clk}
	c := auth.CacheWithClock(src, time.Minute, clk.Now)
	for range 3 {
		clk.Advance(1000 * time.Hour)
		tok, err := c.Token()
		require.NoError(t, err)
		assert.Equal(t, "token-1", tok.AccessToken)
	}
	c.Invalidate("token-1")
	tok, err := c.Token()
	require.NoError(t, err)
	assert.Equal(t, "token-2", tok.AccessToken)
}

func TestCacheInvalidateNamesTheToken(t *testing.T) {
	clk := newFakeClock()
	src := &countingSource{clk: clk, lifetime: time.Hour}
	c := auth.CacheWithClock(src, time.Minute, clk.Now)
	_, err := c.Token()
	require.NoError(t, err)

	c.Invalidate("some-older-token")
	tok, err := c.Token()
	require.NoError(t, err)
	assert.Equal(t, "token-1", tok.AccessToken, "invalidating another token keeps the cached one")

	c.Invalidate("token-1")
	tok, err = c.Token()
	require.NoError(t, err)
	assert.Equal(t, "token-2", tok.AccessToken)
}

func TestCacheErrorsAreSharedButNotCached(t *testing.T) {
	clk := newFakeClock()
	boom := errors.New("endpoint down")
	src := &countingSource{clk: clk, lifetime: time.Hour, err: boom}
	c := auth.CacheWithClock(src, time.Minute, clk.Now)

	_, err := c.Token()
	require.ErrorIs(t, err, boom)
	src.err = nil
	tok, err := c.Token()
	require.NoError(t, err, "a failure is not remembered")
	assert.Equal(t, "token-2", tok.AccessToken)
}

func TestCacheRejectsEmptyTokens(t *testing.T) {
	c := auth.Cache(oauth2.StaticTokenSource(&oauth2.Token{}), time.Minute)
	_, err := c.Token()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no access token")

	var nilCache *auth.TokenCache
	_, err = nilCache.Token()
	require.Error(t, err)
}

// panicSource panics on its first call.
type panicSource struct{ calls atomic.Int64 }

func (p *panicSource) Token() (*oauth2.Token, error) {
	if p.calls.Add(1) == 1 {
		panic("source bug")
	}
	return &oauth2.Token{AccessToken: "after-panic"}, nil
}

func TestCacheSurvivesAPanickingSource(t *testing.T) {
	src := &panicSource{}
	c := auth.Cache(src, time.Minute)
	require.PanicsWithValue(t, "source bug", func() { _, _ = c.Token() })
	tok, err := c.Token()
	require.NoError(t, err, "the cache must not stay locked after a panic")
	assert.Equal(t, "after-panic", tok.AccessToken)
}

// TestCacheSingleFlight holds the first fetch open until every other
// goroutine has asked, and checks that they all share its one result.
func TestCacheSingleFlight(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantTok string
	}{
		{"success", nil, "token-1"},
		{"failure", errors.New("endpoint down"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			src := &countingSource{clk: clk, lifetime: time.Hour, err: tt.err,
				entered: make(chan struct{}, 1), gate: make(chan struct{})}
			c := auth.CacheWithClock(src, time.Minute, clk.Now)

			const n = 64
			type result struct {
				tok *oauth2.Token
				err error
			}
			results := make(chan result, n)
			go func() {
				tok, err := c.Token()
				results <- result{tok, err}
			}()
			<-src.entered // the first fetch is in flight

			var started sync.WaitGroup
			for range n - 1 {
				started.Add(1)
				go func() {
					started.Done()
					tok, err := c.Token()
					results <- result{tok, err}
				}()
			}
			started.Wait()
			close(src.gate)

			for range n {
				r := <-results
				if tt.err != nil {
					// A goroutine that came after the failure starts a new
					// fetch, which fails the same way.
					assert.ErrorIs(t, r.err, tt.err)
					continue
				}
				require.NoError(t, r.err)
				assert.Equal(t, tt.wantTok, r.tok.AccessToken)
			}
			if tt.err == nil {
				assert.Equal(t, int64(1), src.calls.Load(), "one fetch for everyone")
			}
		})
	}
}

// TestCacheServesOldTokenDuringRefresh checks that while a replacement is
// fetched, callers get the old token if it has not expired yet.
func TestCacheServesOldTokenDuringRefresh(t *testing.T) {
	clk := newFakeClock()
	src := &countingSource{clk: clk, lifetime: 10 * time.Minute}
	c := auth.CacheWithClock(src, time.Minute, clk.Now)
	first, err := c.Token()
	require.NoError(t, err)

	src.entered, src.gate = make(chan struct{}, 1), make(chan struct{})
	clk.Advance(9*time.Minute + 30*time.Second) // inside the margin, not expired
	done := make(chan *oauth2.Token)
	go func() {
		tok, err := c.Token()
		assert.NoError(t, err)
		done <- tok
	}()
	<-src.entered

	meanwhile, err := c.Token()
	require.NoError(t, err)
	assert.Same(t, first, meanwhile, "the old token still works and is served without waiting")

	close(src.gate)
	refreshed := <-done
	assert.Equal(t, "token-2", refreshed.AccessToken)
	now, err := c.Token()
	require.NoError(t, err)
	assert.Same(t, refreshed, now)
}

// runLifetimes makes workers goroutines ask src for a token callsPerLifetime
// times each, in each of lifetimes token lifetimes, and returns how many
// token requests srv received.
func runLifetimes(tb testing.TB, clk *fakeClock, srv *authtest.Server, src oauth2.TokenSource, lifetimes, workers, callsPerLifetime int) int {
	tb.Helper()
	start := make([]chan struct{}, workers)
	for i := range start {
		start[i] = make(chan struct{}, 1)
	}
	var done sync.WaitGroup
	var failed atomic.Int64
	for w := range workers {
		go func() {
			for range start[w] {
				for range callsPerLifetime {
					tok, err := src.Token()
					if err != nil || tok.AccessToken == "" {
						failed.Add(1)
					}
				}
				done.Done()
			}
		}()
	}
	before := len(srv.Requests())
	for range lifetimes {
		done.Add(workers)
		for _, s := range start {
			s <- struct{}{}
		}
		done.Wait()
		clk.Advance(tokenLifetime)
	}
	for _, s := range start {
		close(s)
	}
	if n := failed.Load(); n > 0 {
		tb.Fatalf("%d token calls failed", n)
	}
	return len(srv.Requests()) - before
}

func TestSignedJWTOneRequestPerLifetime(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	key := registerClient(t, srv)
	src, err := auth.NewSignedJWT(key)
	require.NoError(t, err)

	const lifetimes = 5
	got := runLifetimes(t, clk, srv, src, lifetimes, 256, 4)
	assert.Equal(t, lifetimes, got, "exactly one token request per token lifetime")
	for _, r := range srv.Requests() {
		assert.Equal(t, http.StatusOK, r.Status)
	}
}

func BenchmarkTokenSourceConcurrent(b *testing.B) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	defer srv.Close()
	key := registerClient(b, srv)
	src, err := auth.NewSignedJWT(key)
	if err != nil {
		b.Fatal(err)
	}
	const workers, calls = 256, 8
	b.ReportAllocs()
	b.ResetTimer()
	requests := runLifetimes(b, clk, srv, src, b.N, workers, calls)
	b.StopTimer()
	b.ReportMetric(float64(requests)/float64(b.N), "requests/lifetime")
	b.ReportMetric(float64(workers*calls), "calls/lifetime")
}

// BenchmarkTokenCacheHit measures the cost of Token when the cached token
// is fresh, from many goroutines at once.
func BenchmarkTokenCacheHit(b *testing.B) {
	clk := newFakeClock()
	src := &countingSource{clk: clk, lifetime: time.Hour}
	c := auth.CacheWithClock(src, time.Minute, clk.Now)
	if _, err := c.Token(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Token(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(src.calls.Load()), "fetches")
}
