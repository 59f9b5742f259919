package shcr

import (
	"errors"

	"github.com/shcrkit/shcrkit/internal/identitytoken"
)

// Errors of remote retrieval and of the journey. Each error the package
// returns matches one of them (or a shcrkit sentinel) with errors.Is. A
// remote ShCR that redirects to another origin (or, through the SSP,
// anywhere) is not followed, so neither credentials nor the request leave
// the registered origin: that error matches shcrkit.ErrRedirectRefused.
// Every error an Option or a Config check returns matches
// shcrkit.ErrInvalidOption.
var (
	// ErrInvalidDirectory: a directory of remote ShCRs is malformed
	// (missing base URL, duplicate custodian, unreadable key file...).
	ErrInvalidDirectory = errors.New("shcr: invalid directory")
	// ErrUnknownCustodian: the pointer's custodian has no endpoint in the
	// directory, so nothing may be sent to it.
	ErrUnknownCustodian = errors.New("shcr: custodian not in the directory")
	// ErrHostNotAllowed: a URL names a host that is not registered for the
	// custodian in the directory (nor the configured SSP proxy). The request
	// is refused before any connection is made.
	ErrHostNotAllowed = errors.New("shcr: host not registered for the custodian")
	// ErrInvalidPointer: a pointer cannot be retrieved as it stands (no
	// URL, an unsupported scheme, an SSP pointer without a provider ASID).
	ErrInvalidPointer = errors.New("shcr: pointer cannot be retrieved")
	// ErrUnsupportedContent: the pointer declares, or the remote ShCR
	// answered with, a content type this client does not accept, or the
	// answer's type differs from the declared one.
	ErrUnsupportedContent = errors.New("shcr: unsupported content type")
	// ErrIdentityToken: the identity token could not be built or signed.
	ErrIdentityToken = identitytoken.ErrInvalid
	// ErrTooManyPages: a Bundle went on past the page limit.
	ErrTooManyPages = errors.New("shcr: too many Bundle pages")
	// ErrRefused: access was refused by the policy. Errors wrapping it
	// are *RefusedError values that carry the decision's reasons.
	ErrRefused = errors.New("shcr: access refused")
	// ErrAudit: an audit record could not be written, so the data it
	// covers is withheld. Errors wrapping it are *AuditError values.
	ErrAudit = errors.New("shcr: audit record not written; data withheld")
	// ErrObligation: an allowed decision's obligation (a privacy-officer
	// alert, a redaction) could not be honoured, so the data is withheld.
	// Errors wrapping it are *ObligationError values.
	ErrObligation = errors.New("shcr: obligation not honoured; data withheld")
	// ErrPatientNotFound: the patient could not be traced in PDS.
	ErrPatientNotFound = errors.New("shcr: patient not traced")
)
