package fhirhttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// A client reads a FHIR resource, retries a rate-limited answer with the
// same X-Request-ID, and turns an OperationOutcome into an error that
// matches the shcrkit sentinels.
func Example() {
	faults := &fake.Faults{}
	faults.Add("", "/Patient/9000000009", 1, fake.Fault{Status: http.StatusTooManyRequests, Code: "TOO_MANY_REQUESTS", RetryAfter: "0"})
	srv := httptest.NewServer((&fake.Middleware{Faults: faults}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/FHIR/R4/Patient/9000000009" {
			fake.WriteOutcome(w, fake.Outcome{Status: http.StatusNotFound, Code: "RESOURCE_NOT_FOUND", Display: "Resource not found"})
			return
		}
		fake.WriteJSON(w, http.StatusOK, map[string]any{"resourceType": "Patient", "id": "9000000009"})
	})))
	defer srv.Close()

	var cfg fhirhttp.Config
	if err := cfg.SetBaseURL(srv.URL + "/FHIR/R4"); err != nil {
		fmt.Println(err)
		return
	}
	c, err := fhirhttp.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	var p struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if _, err := c.DoJSON(ctx, &fhirhttp.Request{Path: "/Patient/9000000009"}, &p); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.ResourceType, p.ID)

	_, err = c.DoJSON(ctx, &fhirhttp.Request{Path: "/Patient/9434765919"}, &p)
	var api *shcrkit.APIError
	if errors.As(err, &api) {
		fmt.Println(api.StatusCode, api.Code, errors.Is(err, shcrkit.ErrNotFound))
	}
	// Output:
	// Patient 9000000009
	// 404 RESOURCE_NOT_FOUND true
}
