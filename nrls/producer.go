package nrls

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Create publishes a new pointer and returns the ID the service gave it
// (always "<custodian>-<something>"; the service chooses the rest). The
// client's base URL must be a producer root.
//
// p is checked first, so a pointer the service would refuse fails with a
// *ValidationError naming each field at fault, before any request: the
// rules of Validate, and a custodian that is the client's end-user
// organisation (a producer writes only its own pointers). A pointer with
// relatesTo "replaces" supersedes those pointers; see Supersede.
func (c *Client) Create(ctx context.Context, p Pointer) (string, error) {
	if err := c.usable(); err != nil {
		return "", err
	}
	if err := c.checkWrite(ctx, &p.Resource); err != nil {
		return "", err
	}
	body, err := json.Marshal(p.Resource)
	if err != nil {
		return "", fmt.Errorf("nrls: encoding the pointer: %w", err)
	}
	// Not Idempotent: the service does not de-duplicate creates by
	// X-Request-ID, so a retry could publish the pointer twice.
	resp, err := c.http.Do(ctx, &fhirhttp.Request{Method: http.MethodPost, Path: "/DocumentReference",
		Body: body, ContentType: fhirhttp.MediaFHIRJSON})
	if err != nil {
		return "", err
	}
	loc := resp.Header.Get("Location")
	id, _ := url.PathUnescape(path.Base(loc))
	if loc == "" || !validID(id) {
		return "", fmt.Errorf("%w: create answered without the new pointer's Location [request %s]",
			shcrkit.ErrMalformedResponse, resp.RequestID)
	}
	return id, nil
}

// Supersede publishes p as the replacement of the pointers named by
// replaces (relatesTo code "replaces"), which the service then deletes.
// The replaced pointers must be the producer's own, for the same patient
// and record type. It returns the new pointer's ID.
func (c *Client) Supersede(ctx context.Context, p Pointer, replaces ...string) (string, error) {
	if err := c.usable(); err != nil {
		return "", err
	}
	if len(replaces) == 0 && len(p.Replaces) == 0 {
		return "", &ValidationError{Errors: []FieldError{{Field: "relatesTo", Problem: "names no pointer to replace"}}}
	}
	doc := p.Resource
	doc.RelatesTo = append([]fhir.DocumentReferenceRelatesTo(nil), doc.RelatesTo...)
	have := map[string]bool{}
	for _, id := range p.Replaces {
		have[id] = true
	}
	for _, id := range replaces {
		if !have[id] {
			have[id] = true
			doc.RelatesTo = append(doc.RelatesTo, replacesTarget(id))
		}
	}
	return c.Create(ctx, PointerFrom(doc))
}

// Update replaces the pointer with ID p.ID by p. Fields the service keeps
// immutable (masterIdentifier, id, identifier, status, type, subject,
// custodian, relatesTo, author) must not change: when p came from Get,
// Search or ParsePointer, a change to one of them fails here with a
// *ValidationError naming it, before any request; otherwise the service
// refuses it.
func (c *Client) Update(ctx context.Context, p Pointer) error {
	if err := c.usable(); err != nil {
		return err
	}
	id := str(p.Resource.Id)
	if id == "" {
		return &ValidationError{Errors: []FieldError{{Field: "id", Problem: "is required to update a pointer"}}}
	}
	if err := c.checkWrite(ctx, &p.Resource); err != nil {
		return err
	}
	if p.snap.Taken() {
		if err := checkImmutable(p.snap, &p.Resource); err != nil {
			return err
		}
	}
	body, err := json.Marshal(p.Resource)
	if err != nil {
		return fmt.Errorf("nrls: encoding the pointer: %w", err)
	}
	// A PUT of the same body is idempotent.
	_, err = c.http.Do(ctx, &fhirhttp.Request{Method: http.MethodPut, Path: "/DocumentReference/" + url.PathEscape(id),
		Body: body, ContentType: fhirhttp.MediaFHIRJSON, Idempotent: true})
	return err
}

// Delete removes the producer's pointer with this ID. Deleting a pointer
// that is not there fails with an error matching shcrkit.ErrNotFound.
func (c *Client) Delete(ctx context.Context, id string) error {
	if err := c.usable(); err != nil {
		return err
	}
	org, err := c.organisation(ctx)
	if err != nil {
		return err
	}
	var v ValidationError
	switch {
	case !validID(id):
		v.add("id", "must be a pointer ID, \"<ODS code>-<local ID>\"")
	case !strings.HasPrefix(id, string(org)+"-"):
		v.add("id", "must be a pointer of the end-user organisation %q: a producer deletes only its own", org)
	}
	if err := v.err(); err != nil {
		return err
	}
	_, err = c.http.Do(ctx, &fhirhttp.Request{Method: http.MethodDelete, Path: "/DocumentReference/" + url.PathEscape(id),
		Idempotent: true})
	return err
}

// organisation is the end-user organisation of a call made with ctx.
func (c *Client) organisation(ctx context.Context) (shcrkit.ODSCode, error) {
	s, err := c.http.CallSession(ctx)
	return s.Organisation, err
}

// checkWrite applies the service's rules and the producer's ownership of
// the pointer by the call's organisation.
func (c *Client) checkWrite(ctx context.Context, d *fhir.DocumentReference) error {
	org, err := c.organisation(ctx)
	if err != nil {
		return err
	}
	var v ValidationError
	validateResource(&v, d)
	if d.Custodian != nil && d.Custodian.Identifier != nil {
		if got := str(d.Custodian.Identifier.Value); got != "" && got != string(org) {
			v.add("custodian.identifier.value", "must be the end-user organisation %q: a producer writes only its own pointers", org)
		}
	}
	return v.err()
}
