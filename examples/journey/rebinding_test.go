package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeRefusesAnotherSitesHostName: the console served with -serve has
// no login of its own, only the loopback address. A web page that points
// its own name at 127.0.0.1 (DNS rebinding) reaches that address from the
// officer's browser with its own name in Host, and would read the console
// and post its forms (the form's Origin names the same rebound host). Only
// a request that names a loopback host is served.
func TestServeRefusesAnotherSitesHostName(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-serve", "127.0.0.1:0"}, &out, io.Discard) }()
	addr := regexp.MustCompile(`investigation console: +(http://127\.0\.0\.1:\d+)/console/`)
	var base string
	require.Eventually(t, func() bool {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the journey ended before serving: %v\n%s", err, out.String())
		default:
		}
		return base != ""
	}, time.Minute, 20*time.Millisecond)
	u, err := url.Parse(base)
	require.NoError(t, err)

	get := func(path, host string) int {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{"/console/", "/console/cases", "/patient-information"} {
		assert.Equal(t, http.StatusOK, get(path, u.Host), path)
		assert.Equal(t, http.StatusOK, get(path, "localhost:"+u.Port()), path)
		assert.NotEqual(t, http.StatusOK, get(path, "rebound.attacker.example:"+u.Port()), path)
	}
	cancel()
	require.NoError(t, <-done)
}
