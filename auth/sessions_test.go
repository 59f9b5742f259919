package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// countingSources builds, per session, a source that hands out
// "<user>-<n>" tokens valid for ten minutes, counting builds and calls.
type countingSources struct {
	clk    *fakeClock
	builds atomic.Int64
	calls  atomic.Int64
	gate   chan struct{} // when set, every call waits for it
}

func (cs *countingSources) newSource(s shcrkit.Session) (oauth2.TokenSource, error) {
	cs.builds.Add(1)
	var n atomic.Int64
	return tokenFunc(func() (*oauth2.Token, error) {
		cs.calls.Add(1)
		if cs.gate != nil {
			<-cs.gate
		}
		return &oauth2.Token{AccessToken: fmt.Sprintf("%s-%d", s.UserID, n.Add(1)), Expiry: cs.clk.Now().Add(10 * time.Minute)}, nil
	}), nil
}

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

func session(user string) shcrkit.Session {
	return shcrkit.Session{ID: "s-" + user, UserID: user, Organisation: "RX1", RoleProfileID: "100000000001"}
}

func newCounting(t *testing.T, cfg auth.SessionConfig) (*countingSources, *auth.SessionTokens) {
	t.Helper()
	cs := &countingSources{clk: newFakeClock()}
	cfg.Now = cs.clk.Now
	st, err := auth.NewSessionTokens(cs.newSource, cfg)
	require.NoError(t, err)
	return cs, st
}

func TestSessionTokensKeepsEachSessionsOwnToken(t *testing.T) {
	cs, st := newCounting(t, auth.SessionConfig{})
	ctx := context.Background()
	for range 3 {
		a, err := st.SessionToken(ctx, session("alice"))
		require.NoError(t, err)
		assert.Equal(t, "alice-1", a)
		b, err := st.SessionToken(ctx, session("bob"))
		require.NoError(t, err)
		assert.Equal(t, "bob-1", b)
	}
	assert.Equal(t, int64(2), cs.builds.Load())
	assert.Equal(t, int64(2), cs.calls.Load(), "one token per session per lifetime")
	assert.Equal(t, 2, st.Len())

	// The same user in another organisation or role is another session.
	other := session("alice")
	other.Organisation = "RX2"
	a2, err := st.SessionToken(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, "alice-1", a2, "from a source of its own")
	assert.Equal(t, int64(3), cs.builds.Load())

	// A token due for replacement is replaced for that session only.
	cs.clk.Advance(10 * time.Minute)
	a, err := st.SessionToken(ctx, session("alice"))
	require.NoError(t, err)
	assert.Equal(t, "alice-2", a)
}

func TestSessionTokensSingleFlightPerSession(t *testing.T) {
	cs, st := newCounting(t, auth.SessionConfig{})
	cs.gate = make(chan struct{})
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]string, 64)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := st.SessionToken(ctx, session("alice"))
			assert.NoError(t, err)
			got[i] = tok
		}()
	}
	// Bob is not held up by Alice's token request in flight: his own
	// request is in flight at the same time (the gate holds both).
	bob := make(chan string, 1)
	go func() {
		tok, err := st.SessionToken(ctx, session("bob"))
		assert.NoError(t, err)
		bob <- tok
	}()
	require.Eventually(t, func() bool { return cs.calls.Load() == 2 }, 10*time.Second, time.Millisecond,
		"one request per session, both in flight at once")
	close(cs.gate)
	wg.Wait()
	for _, tok := range got {
		assert.Equal(t, "alice-1", tok)
	}
	assert.Equal(t, "bob-1", <-bob)
	assert.Equal(t, int64(2), cs.calls.Load())
}

func TestSessionTokensBounded(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		cs, st := newCounting(t, auth.SessionConfig{MaxSessions: 2})
		ctx := context.Background()
		for _, u := range []string{"a", "b", "a", "c"} { // b is the least recently used when c arrives
			_, err := st.SessionToken(ctx, session(u))
			require.NoError(t, err)
		}
		assert.Equal(t, 2, st.Len())
		assert.Equal(t, int64(3), cs.builds.Load())
		_, err := st.SessionToken(ctx, session("a"))
		require.NoError(t, err)
		assert.Equal(t, int64(3), cs.builds.Load(), "a was kept")
		_, err = st.SessionToken(ctx, session("b"))
		require.NoError(t, err)
		assert.Equal(t, int64(4), cs.builds.Load(), "b was dropped and starts again")
		assert.Equal(t, 2, st.Len())
	})
	t.Run("idle time", func(t *testing.T) {
		cs, st := newCounting(t, auth.SessionConfig{Idle: time.Minute})
		ctx := context.Background()
		_, err := st.SessionToken(ctx, session("a"))
		require.NoError(t, err)
		cs.clk.Advance(30 * time.Second)
		_, err = st.SessionToken(ctx, session("b"))
		require.NoError(t, err)
		cs.clk.Advance(45 * time.Second) // a idle 75 s, b 45 s
		_, err = st.SessionToken(ctx, session("c"))
		require.NoError(t, err)
		assert.Equal(t, 2, st.Len(), "a dropped as idle")
		_, err = st.SessionToken(ctx, session("b"))
		require.NoError(t, err)
		assert.Equal(t, int64(3), cs.builds.Load(), "b kept")
		cs.clk.Advance(2 * time.Minute)
		_, err = st.SessionToken(ctx, session("b"))
		require.NoError(t, err)
		assert.Equal(t, int64(4), cs.builds.Load(), "b idle too long starts again")
		assert.Equal(t, 1, st.Len(), "and c went with the sweep")
	})
}

func TestSessionTokensInvalidateAndForget(t *testing.T) {
	cs, st := newCounting(t, auth.SessionConfig{})
	ctx := context.Background()
	a, _ := st.SessionToken(ctx, session("alice"))
	b, _ := st.SessionToken(ctx, session("bob"))
	st.InvalidateSessionToken(session("alice"), b) // not alice's token: nothing happens
	again, _ := st.SessionToken(ctx, session("alice"))
	assert.Equal(t, a, again)
	st.InvalidateSessionToken(session("alice"), a)
	again, _ = st.SessionToken(ctx, session("alice"))
	assert.Equal(t, "alice-2", again)
	bAgain, _ := st.SessionToken(ctx, session("bob"))
	assert.Equal(t, b, bAgain, "bob untouched")
	st.InvalidateSessionToken(session("nobody"), "x") // unknown session: no effect

	st.Forget(session("bob"))
	assert.Equal(t, 1, st.Len())
	builds := cs.builds.Load()
	_, _ = st.SessionToken(ctx, session("bob"))
	assert.Equal(t, builds+1, cs.builds.Load())
}

func TestSessionTokensRefusesCallsWithoutSession(t *testing.T) {
	_, st := newCounting(t, auth.SessionConfig{})
	_, err := st.Token()
	require.ErrorIs(t, err, shcrkit.ErrNoSession)
	require.ErrorIs(t, err, shcrkit.ErrNoSession)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = st.SessionToken(ctx, session("a"))
	require.ErrorIs(t, err, context.Canceled)
}

func TestSessionTokensOptions(t *testing.T) {
	src := func(shcrkit.Session) (oauth2.TokenSource, error) { return nil, nil }
	for name, cfg := range map[string]auth.SessionConfig{
		"negative sessions": {MaxSessions: -1},
		"tiny idle":         {Idle: time.Millisecond},
		"negative margin":   {ExpiryMargin: -time.Second},
	} {
		_, err := auth.NewSessionTokens(src, cfg)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidOption, name)
	}
	_, err := auth.NewSessionTokens(nil, auth.SessionConfig{})
	assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)

	st, err := auth.NewSessionTokens(src, auth.SessionConfig{})
	require.NoError(t, err)
	_, err = st.SessionToken(context.Background(), session("a"))
	assert.ErrorIs(t, err, shcrkit.ErrInvalidOption, "a constructor returning no source")

	failing, err := auth.NewSessionTokens(func(shcrkit.Session) (oauth2.TokenSource, error) { return nil, errors.New("no key") }, auth.SessionConfig{})
	require.NoError(t, err)
	_, err = failing.SessionToken(context.Background(), session("a"))
	assert.ErrorContains(t, err, "no key")
	assert.Equal(t, 0, failing.Len())
}

func TestSessionTokenExchangePerSession(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	t.Cleanup(srv.Close)
	key := registerClient(t, srv)
	st, err := auth.NewSessionTokenExchange(auth.SessionExchangeConfig{SignedJWTConfig: key})
	require.NoError(t, err)
	ctx := context.Background()

	users := []string{"555000000001", "555000000002"}
	for _, u := range users {
		s := session(u)
		s.IDToken = idToken(t, srv, u)
		tok, err := st.SessionToken(ctx, s)
		require.NoError(t, err)
		info, err := srv.Introspect(tok)
		require.NoError(t, err)
		assert.Equal(t, u, info.Subject, "each session's token is its own user's")
		again, err := st.SessionToken(ctx, s)
		require.NoError(t, err)
		assert.Equal(t, tok, again)
	}
	assert.Equal(t, []string{grantExchange, grantExchange}, grants(srv))

	// After a 401 the session refreshes; past the refresh token's life it
	// exchanges the renewed ID token it now presents.
	s := session(users[0])
	s.IDToken = idToken(t, srv, users[0])
	tok, _ := st.SessionToken(ctx, s)
	st.InvalidateSessionToken(s, tok)
	fresh, err := st.SessionToken(ctx, s)
	require.NoError(t, err)
	assert.NotEqual(t, tok, fresh)
	assert.Equal(t, grantRefresh, grants(srv)[2])

	// A session that brings no ID token cannot start.
	_, err = st.SessionToken(ctx, session("555000000003"))
	require.ErrorContains(t, err, "no CIS2 ID token")
	assert.NotContains(t, err.Error(), s.IDToken)

	// A custom ID token lookup.
	lookups := 0
	st2, err := auth.NewSessionTokenExchange(auth.SessionExchangeConfig{SignedJWTConfig: key,
		IDTokenFunc: func(_ context.Context, s shcrkit.Session) (string, error) {
			lookups++
			return srv.IDToken(s.UserID)
		}})
	require.NoError(t, err)
	tok, err = st2.SessionToken(ctx, session("555000000004"))
	require.NoError(t, err)
	info, err := srv.Introspect(tok)
	require.NoError(t, err)
	assert.Equal(t, "555000000004", info.Subject)
	assert.Equal(t, 1, lookups)

	_, err = auth.NewSessionTokenExchange(auth.SessionExchangeConfig{})
	assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
}

func TestSessionTokenExchangeUsesTheRenewedIDToken(t *testing.T) {
	clk := newFakeClock()
	srv := authtest.NewServer(authtest.WithClock(clk.Now))
	t.Cleanup(srv.Close)
	key := registerClient(t, srv)
	st, err := auth.NewSessionTokenExchange(auth.SessionExchangeConfig{SignedJWTConfig: key, SessionIdle: 3 * time.Hour})
	require.NoError(t, err)
	ctx := context.Background()
	s := session("555000000001")
	s.IDToken = idToken(t, srv, s.UserID)
	first, err := st.SessionToken(ctx, s)
	require.NoError(t, err)

	// Past the life of the access token, the refresh token and the first
	// ID token, the session signs in again and presents a new ID token.
	clk.Advance(2 * time.Hour)
	s.IDToken = idToken(t, srv, s.UserID)
	second, err := st.SessionToken(ctx, s)
	require.NoError(t, err)
	assert.NotEqual(t, first, second)
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, grantExchange, reqs[1].GrantType)
	assert.Equal(t, s.IDToken, reqs[1].Form.Get("subject_token"), "the renewed ID token is exchanged")
	assert.Equal(t, 1, st.Len())
}

// TestSessionTokensNotMadeByAConstructor: a nil or zero SessionTokens
// refuses to hand out tokens with an error matching
// shcrkit.ErrInvalidOption, and its other calls do nothing, instead of
// panicking.
func TestSessionTokensNotMadeByAConstructor(t *testing.T) {
	s := shcrkit.Session{ID: "s1", UserID: "555000000201", Organisation: "RX1", RoleProfileID: "555000000202"}
	for name, st := range map[string]*auth.SessionTokens{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := st.SessionToken(context.Background(), s)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			st.InvalidateSessionToken(s, "x")
			st.Forget(s)
			_, err = st.Token()
			assert.ErrorIs(t, err, shcrkit.ErrNoSession)
		})
	}
}
