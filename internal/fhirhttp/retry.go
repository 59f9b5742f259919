package fhirhttp

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

type retryKey struct{}

// withRetry marks a request's context with whether it may be retried.
// go-retryablehttp hands CheckRetry only the context, so the decision
// travels there.
func withRetry(ctx context.Context, ok bool) context.Context {
	return context.WithValue(ctx, retryKey{}, ok)
}

// RetryableStatus reports whether an answer with this status is worth
// another attempt: rate limiting and gateway failures are transient; other
// errors are not made better by repetition.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// checkRetry is the go-retryablehttp CheckRetry hook.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if ok, _ := ctx.Value(retryKey{}).(bool); !ok {
		return false, nil
	}
	if err != nil {
		var tooLarge *tooLargeError
		if errors.As(err, &tooLarge) {
			return false, nil
		}
		if _, ok := redirectError(err); ok {
			return false, nil
		}
		// Connection failures are transient unless the request itself is at
		// fault; go-retryablehttp's own policy knows those cases.
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	if !RetryableStatus(resp.StatusCode) {
		return false, nil
	}
	// A wait the service asks for that would outlast the caller's deadline
	// is not waited out: the answer goes back at once (429 matching
	// shcrkit.ErrRateLimited, with the wait in APIError.RetryAfter) rather
	// than sleeping into context.DeadlineExceeded.
	if deadline, ok := ctx.Deadline(); ok {
		if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && time.Now().Add(d).After(deadline) {
			return false, nil
		}
	}
	return true, nil
}

// newBackoff returns the go-retryablehttp Backoff hook: Retry-After when
// the server sent one (capped at maxRetryAfter), else exponential backoff
// with full jitter between min and max.
func newBackoff(maxRetryAfter time.Duration, now func() time.Time) retryablehttp.Backoff {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil {
			if d, ok := RetryAfter(resp.Header.Get("Retry-After"), now()); ok {
				return min64(d, maxRetryAfter)
			}
		}
		return jitterBackoff(min, max, attempt)
	}
}

// jitterBackoff is min·2^attempt capped at max, with the wait drawn
// uniformly from its upper half so that many clients do not retry in step.
func jitterBackoff(min, max time.Duration, attempt int) time.Duration {
	d := max
	if attempt < 30 {
		if e := min << uint(attempt); e > 0 && e < max {
			d = e
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// RetryAfter parses a Retry-After header in either of its forms: a number
// of seconds, or an HTTP date (taken relative to now). A date in the past
// means no wait.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func min64(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}
