package fhirhttp

import (
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// BackoffFor exposes the backoff hook to the tests.
func BackoffFor(maxRetryAfter time.Duration) retryablehttp.Backoff {
	return newBackoff(maxRetryAfter, time.Now)
}
