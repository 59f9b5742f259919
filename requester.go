package shcrkit

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// ErrInvalidRequester is matched by every error that Requester.Validate
// and Session.Validate return.
var ErrInvalidRequester = errors.New("shcrkit: invalid requester")

// Requester is the professional on whose behalf a call is made: who they
// are, the role they have selected in their smartcard session, the
// organisation they work for and the product they are using. Access
// decisions and audit records are built from it.
type Requester struct {
	// UserID is the SDS user ID (the CIS2 subject, 12 digits).
	UserID string `json:"userId"`
	// Name is the person's display name.
	Name string `json:"name,omitempty"`
	// RoleProfileID is the SDS role profile ID of the role in use (the
	// CIS2 person_roleid / selected_roleid).
	RoleProfileID string `json:"roleProfileId"`
	// RoleCode is the national RBAC role code "Sxxxx:Gxxxx:Rxxxx". A bare
	// job role "Rxxxx" is accepted too.
	RoleCode string `json:"roleCode"`
	// RoleName is the human-readable name of the role, when known.
	RoleName string `json:"roleName,omitempty"`
	// Activities are the activity codes (B-codes, e.g. B0360) that the role
	// carries.
	Activities []string `json:"activities,omitempty"`
	// Organisation is the ODS code of the organisation the role belongs to:
	// the true originating organisation of the request.
	Organisation ODSCode `json:"organisation"`
	// OrganisationName is the organisation's display name.
	OrganisationName string `json:"organisationName,omitempty"`
	// AssuranceLevel is the authentication assurance level of the user's
	// session (CIS2 authentication_assurance_level, e.g. 3), or 0 when
	// unknown.
	AssuranceLevel int `json:"assuranceLevel,omitempty"`
	// System is the calling product.
	System System `json:"system"`
}

// System is the product that makes a call on a professional's behalf.
type System struct {
	// Name of the product, e.g. "Riverside EPR".
	Name string `json:"name"`
	// Version of the product.
	Version string `json:"version,omitempty"`
	// ASID is the product's 12-digit Spine accredited system ID, when it
	// has one (needed for Spine Secure Proxy routing).
	ASID string `json:"asid,omitempty"`
}

// JobRole returns the job role code (the "Rxxxx" part of RoleCode), or ""
// when RoleCode names none.
func (r Requester) JobRole() string {
	code := r.RoleCode
	if i := strings.LastIndexByte(code, ':'); i >= 0 {
		code = code[i+1:]
	}
	if isCode(code, 'R') {
		return code
	}
	return ""
}

// Validate checks that the requester names a user, a role profile, a role
// code in the national format, an organisation and a calling system, and
// that activity codes and the ASID are well formed. It returns every
// problem at once, joined, each matching ErrInvalidRequester.
func (r Requester) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequester}, args...)...))
	}
	if strings.TrimSpace(r.UserID) == "" {
		bad("UserID is required")
	}
	if strings.TrimSpace(r.RoleProfileID) == "" {
		bad("RoleProfileID is required")
	}
	if r.RoleCode == "" {
		bad("RoleCode is required")
	} else if !validRoleCode(r.RoleCode) {
		bad("RoleCode %q is not Sxxxx:Gxxxx:Rxxxx or Rxxxx", r.RoleCode)
	}
	for _, a := range r.Activities {
		if !isCode(a, 'B') {
			bad("activity code %q is not Bnnnn", a)
		}
	}
	if r.Organisation == "" {
		bad("Organisation is required")
	} else if !r.Organisation.Valid() {
		bad("Organisation %q is not a valid ODS code", string(r.Organisation))
	}
	if strings.TrimSpace(r.System.Name) == "" {
		bad("System.Name is required")
	}
	if r.System.ASID != "" && !isDigits(r.System.ASID, 12) {
		bad("System.ASID must be 12 digits")
	}
	if r.AssuranceLevel < 0 || r.AssuranceLevel > 4 {
		bad("AssuranceLevel %d is outside 0..4", r.AssuranceLevel)
	}
	return errors.Join(errs...)
}

// LogValue implements slog.LogValuer: the user, role and organisation,
// never more.
func (r Requester) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user", r.UserID),
		slog.String("role", r.RoleCode),
		slog.String("org", string(r.Organisation)),
	)
}

// validRoleCode accepts "Sxxxx:Gxxxx:Rxxxx" or a bare "Rxxxx".
func validRoleCode(s string) bool {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		return isCode(parts[0], 'R')
	case 3:
		return isCode(parts[0], 'S') && isCode(parts[1], 'G') && isCode(parts[2], 'R')
	}
	return false
}

// isCode reports whether s is the letter followed by one or more digits
// (national role and activity codes are a letter and four digits, but
// older codes vary in length).
func isCode(s string, letter byte) bool {
	return len(s) >= 2 && len(s) <= 8 && s[0] == letter && isDigits(s[1:], len(s)-1)
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
