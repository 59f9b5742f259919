package attack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
)

// TestRedirectsToAnotherOrigin: every client, every redirect status, to
// the same host on another port (the attack that delivered a bearer token
// and an NHS number before) and to another host name. Nothing may reach
// the other origin, and the error must be a *shcrkit.RedirectError.
func TestRedirectsToAnotherOrigin(t *testing.T) {
	const promise = "redirects to another origin refused, nothing sent there"
	statuses := []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}
	elsewhere := &received{}
	other := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		elsewhere.add(r)
		w.WriteHeader(http.StatusOK)
	})
	otherHost := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	for _, tg := range targets() {
		for _, status := range statuses {
			for _, dest := range []string{other.URL, otherHost} {
				name := fmt.Sprintf("%s/%d/%s", tg.name, status, strings.TrimPrefix(dest, "http://"))
				t.Run(name, func(t *testing.T) {
					before := elsewhere.requests()
					srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
						http.Redirect(w, r, dest+r.URL.Path+"?nhs="+patientNHS, status)
					})
					logger, logs := newLogger()
					err := tg.call(context.Background(), t, srv.URL, logger)
					var re *shcrkit.RedirectError
					typed := errors.As(err, &re) && errors.Is(err, shcrkit.ErrRedirectRefused)
					sent := elsewhere.requests() - before
					leaked := append(leaks(errText(err)), leaks(logs.String())...)
					held := typed && sent == 0 && len(leaked) == 0
					attempt(promise, held)
					assert.True(t, typed, "want a *shcrkit.RedirectError, got %v", err)
					assert.Zero(t, sent, "the other origin received %d requests", sent)
					assert.Empty(t, leaked)
				})
			}
		}
	}
	report(t, promise)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
