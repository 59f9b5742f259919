package shcr

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr/internal/auditfield"
)

// Patient is the traced patient as the journey hands it back.
type Patient struct {
	// NHSNumber is the patient's current NHS number: for a superseded
	// number, the surviving one.
	NHSNumber shcrkit.NHSNumber
	// Superseded is the number asked for when PDS answered with another,
	// surviving record; the caller must replace it in its own records.
	Superseded shcrkit.NHSNumber
	// Confidentiality is the patient's PDS confidentiality.
	Confidentiality shcrkit.Confidentiality
	// Record is the PDS record, with any field the boundary decision
	// obliges the caller to redact removed.
	Record *pds.Patient
}

// Candidate is a pointer the NRL returned, with the policy's decision on
// it: one the requester may open (Discovery.Pointers), or one refused
// (Discovery.Refused).
type Candidate struct {
	// Pointer is the NRL pointer.
	Pointer nrls.Pointer
	// Decision is the policy's: an allowance with its obligations, or a
	// refusal with every reason.
	Decision rbac.Decision
	// Unavailable is nil when this client can retrieve an allowed
	// pointer, and otherwise says why not (ErrUnknownCustodian,
	// ErrHostNotAllowed, ErrUnsupportedContent, ErrInvalidPointer): no
	// connection will be made for it. It is nil for a refused pointer.
	Unavailable error
}

// Discovery is what exists for the patient and what the requester may
// open: steps 1 to 4 of the journey.
type Discovery struct {
	// Patient is the traced patient.
	Patient Patient
	// Boundary is the decision to let the requester look across the
	// boundary at all.
	Boundary rbac.Decision
	// Pointers are the pointers the requester may open, in the order the
	// NRL returned them.
	Pointers []Candidate
	// Refused are the pointers the policy refused, with its reasons.
	Refused []Candidate
	// Problems are the NRL search entries that could not be read as
	// pointers; the list of pointers may be incomplete.
	Problems []nrls.Problem
	// ValidUntil is when the access granted expires under a time-box
	// obligation; zero when there is none.
	ValidUntil time.Time
	// CorrelationID ties together the calls and audit events of the
	// journey.
	CorrelationID string
}

// Record is one retrieved record, with the obligations of its decision
// honoured.
type Record struct {
	// Pointer is the NRL pointer the record was retrieved through.
	Pointer nrls.Pointer
	// Decision is the allowance it was retrieved under.
	Decision rbac.Decision
	// ContentType is the media type the remote ShCR answered with.
	ContentType string
	// ResourceType is the FHIR resource type of Resource, or "".
	ResourceType string
	// Resource is the FHIR JSON record, redacted as the decision obliges
	// (a Bundle's pages merged into one Bundle); nil for an attachment.
	Resource []byte
	// Pages is the number of Bundle pages read.
	Pages int
	// Body streams an attachment (PDF, HTML...), capped in size; nil for
	// FHIR JSON. The caller must close it (Close or Result.Close).
	Body io.ReadCloser
	// Size is the declared length of the attachment, or of Resource; -1
	// when unknown.
	Size int64
	// Redacted lists the fields removed under a redaction obligation.
	Redacted []string
	// ValidUntil is when the access expires under a time-box obligation;
	// zero when there is none.
	ValidUntil time.Time
	// RequestID is the X-Request-ID of the retrieval.
	RequestID string
	// ViaSSP reports whether the record came through the Spine Secure
	// Proxy.
	ViaSSP bool
}

// Close closes Body, if any.
func (r *Record) Close() error {
	if r == nil || r.Body == nil {
		return nil
	}
	return r.Body.Close()
}

// Result is the whole journey: what was found, what came back, what was
// refused and what failed, side by side.
type Result struct {
	Discovery
	// Records are the records retrieved, in the order of their pointers.
	Records []*Record
	// Failures are the allowed pointers that could not be retrieved or
	// released: the remote ShCR failed, timed out or refused, the pointer
	// named a host outside the directory, an obligation could not be
	// honoured, or the audit record could not be written (a refusal whose
	// record could not be written is withheld here too).
	Failures []*RetrievalError
}

// Close closes the bodies of every record.
func (r *Result) Close() error {
	if r == nil {
		return nil
	}
	var errs []error
	for _, rec := range r.Records {
		errs = append(errs, rec.Close())
	}
	return errors.Join(errs...)
}

// RetrievalError is why one allowed pointer gave no record. The other
// pointers of the journey are unaffected.
type RetrievalError struct {
	// Pointer is the pointer that failed.
	Pointer nrls.Pointer
	// Custodian is its custodian.
	Custodian shcrkit.ODSCode
	// Err is the cause.
	Err error
}

// Error names the pointer, its custodian and the cause.
func (e *RetrievalError) Error() string {
	return shcrkit.Redact(fmt.Sprintf("shcr: pointer %s at %s: %v", e.Pointer.ID, e.Custodian, e.Err))
}

// Unwrap returns the cause.
func (e *RetrievalError) Unwrap() error { return e.Err }

// RefusedError is an access the policy refused. It matches ErrRefused and
// shcrkit.ErrForbidden.
type RefusedError struct {
	// Decision is the refusal, with every reason and the refusing rule.
	Decision rbac.Decision
	// PointerID names the pointer refused, or "" for the boundary.
	PointerID string
}

// Error names the refusing rule and its reasons, never the patient.
func (e *RefusedError) Error() string {
	what := "looking across the boundary"
	if e.PointerID != "" {
		what = "pointer " + e.PointerID
	}
	return shcrkit.Redact(fmt.Sprintf("shcr: access refused: %s denied by %s: %s", what, e.Decision.Rule, e.Decision.Reason()))
}

// Is matches ErrRefused and shcrkit.ErrForbidden.
func (e *RefusedError) Is(target error) bool {
	return target == ErrRefused || target == shcrkit.ErrForbidden
}

// AuditError is an audit event the sink did not take: the data it covers
// is withheld. It matches ErrAudit and unwraps to the sink's error.
type AuditError struct {
	// Step names the step whose event failed ("pds trace", "nrl search",
	// "boundary decision", "record decision", "retrieval").
	Step string
	// Err is the sink's error.
	Err error
}

// Error says which step's record was not written.
func (e *AuditError) Error() string {
	// The sink's error is another component's text: it may name the
	// patient or carry a secret, like any error from elsewhere.
	return shcrkit.Redact(fmt.Sprintf("shcr: audit record of the %s not written, so its data is withheld: %v", e.Step, e.Err))
}

// Is matches ErrAudit.
func (e *AuditError) Is(target error) bool { return target == ErrAudit }

// Unwrap returns the sink's error.
func (e *AuditError) Unwrap() error { return e.Err }

// ObligationError is an obligation of an allowed decision that could not
// be honoured, so the data was withheld. It matches ErrObligation.
type ObligationError struct {
	// Obligation is the obligation.
	Obligation rbac.Obligation
	// Problem says why it could not be honoured.
	Problem string
	// Err is the underlying error, if any (an alert hook's).
	Err error
}

// Error names the obligation and why it could not be honoured.
func (e *ObligationError) Error() string {
	s := "shcr: obligation " + e.Obligation.String() + " cannot be honoured, so the data is withheld: " + e.Problem
	if e.Err != nil {
		s += ": " + shcrkit.Redact(e.Err.Error())
	}
	return s
}

// Is matches ErrObligation.
func (e *ObligationError) Is(target error) bool { return target == ErrObligation }

// Unwrap returns the underlying error.
func (e *ObligationError) Unwrap() error { return e.Err }

// clip keeps a text within an audit field's size.
func clip(s string, n int) string { return auditfield.Clip(s, n) }
