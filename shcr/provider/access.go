package provider

import (
	"context"
	"net/http"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/fhirredact"
	"github.com/shcrkit/shcrkit/rbac"
)

// Target is what one request asks for, as the provider's own records
// say: the patient, the record's type or the data category, and the
// labels that bear on the decision. A Resolver works it out.
type Target struct {
	// Action is audit.ActionRead for one resource and audit.ActionSearch
	// for a search; "" means read. Reads are recorded as disclosures.
	Action audit.Action
	// Resource is "Type/id" for a read, the resource type for a search.
	Resource string
	// Query is a search's query string for the audit trail, with the
	// patient's NHS number written as audit.QueryPatientPlaceholder.
	Query string
	// Patient is whose record it is. Required.
	Patient shcrkit.NHSNumber
	// PatientFamily is the patient's family name, for the audit trail's
	// same-surname review.
	PatientFamily string
	// RecordType is the record's NRL type (SNOMED CT), or "".
	RecordType string
	// Category is the policy data category, for what has no record type
	// (a search by FHIR resource type).
	Category string
	// Confidentiality is the record's own label.
	Confidentiality shcrkit.Confidentiality
	// PatientConfidentiality is the patient's label.
	PatientConfidentiality shcrkit.Confidentiality
	// Dissent is true when the patient has recorded dissent from sharing.
	Dissent bool
}

// Resolver tells the Guard what a request asks for. It runs after the
// tokens are verified and before the decision. It returns an error
// matching ErrNotServed for a request that names nothing served here
// (404), ErrBadRequest for a malformed one (400); any other error is
// answered 503. Implementations are safe for concurrent use.
type Resolver interface {
	Resolve(r *http.Request) (Target, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(r *http.Request) (Target, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(r *http.Request) (Target, error) { return f(r) }

// Access is a request the Guard verified, decided, allowed and recorded:
// what the wrapped handler serves by. The handler must honour the
// decision's obligations: Redactions names the elements to remove
// (Redact removes them), ValidUntil ends a time box.
type Access struct {
	// RequestID is the consumer's X-Request-ID (or one made up when the
	// consumer sent none); the audit events of both sides share it.
	RequestID string
	// CorrelationID is the consumer's X-Correlation-ID, or "".
	CorrelationID string
	// Consumer is the name of the consumer, as configured.
	Consumer string
	// ShCR is the requester's shared care record.
	ShCR shcrkit.ODSCode
	// Client is the verified access token; zero without one.
	Client AccessToken
	// IdentityTokenID is the verified identity token's ID (jti), or ""
	// when it carries none; the token's other claims are read into
	// Requester, Purpose and Restricted.
	IdentityTokenID string
	// IdentityExpires is when the identity token expires.
	IdentityExpires time.Time
	// Requester is the professional, as the identity token states them.
	Requester shcrkit.Requester
	// Purpose is the purpose of use stated (TREAT when none was).
	Purpose shcrkit.Purpose
	// Restricted is true when scope conf/R was asked for.
	Restricted bool
	// Target is what is asked for.
	Target Target
	// Decision is the policy's.
	Decision rbac.Decision
	// ValidUntil is the end of the decision's shortest time box, or zero.
	ValidUntil time.Time
}

// Redactions returns the elements the decision obliges the handler to
// remove from what it serves.
func (a *Access) Redactions() []string {
	var out []string
	for _, o := range a.Decision.Obligations {
		if o.Kind == rbac.ObligationRedact {
			out = append(out, o.Fields...)
		}
	}
	return out
}

// Redact removes the obliged elements from every resource in a FHIR JSON
// body, with the narrative of a resource that loses one; with none to
// remove it returns body unchanged. A body that is not FHIR JSON (a PDF,
// an HTML page) cannot be redacted: Redact fails on it, and the handler
// must withhold it rather than serve it as it is.
func (a *Access) Redact(body []byte) ([]byte, error) {
	return fhirredact.Elements(body, a.Redactions())
}

type accessKey struct{}

// AccessFrom returns the verified access of the request whose context
// ctx is, as the Guard put it there; false outside a Guard or for a nil
// ctx.
func AccessFrom(ctx context.Context) (*Access, bool) {
	if ctx == nil {
		return nil, false
	}
	a, ok := ctx.Value(accessKey{}).(*Access)
	return a, ok
}
