package fake_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/shcrkit/shcrkit/internal/fake"
)

// A fake's handler wrapped with recording and fault injection: the next
// request to /Patient answers 503, the one after is served.
func ExampleMiddleware() {
	rec := &fake.Recorder{}
	faults := &fake.Faults{}
	mw := &fake.Middleware{Recorder: rec, Faults: faults}
	srv := httptest.NewServer(mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.WriteJSON(w, http.StatusOK, map[string]any{"resourceType": "Patient"})
	})))
	defer srv.Close()

	faults.Add(http.MethodGet, "/Patient", 1, fake.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1"})
	for range 2 {
		resp, err := http.Get(srv.URL + "/Patient/9000000009")
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
	}
	for _, r := range rec.Requests() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	// Output:
	// GET /Patient/9000000009 503
	// GET /Patient/9000000009 200
}
