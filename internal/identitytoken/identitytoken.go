// Package identitytoken is the per-request identity token of a remote
// ShCR request, in the GP Connect shape: the claims a consumer (shcr)
// builds and signs, and the checks a provider (shcr/provider, the fakes)
// makes of them.
package identitytoken

import (
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/jws"
)

// ErrInvalid is matched by every error about an identity token: one that
// could not be built or signed, or one a provider refuses.
var ErrInvalid = errors.New("shcr: identity token")

// Identifier systems used in identity tokens.
const (
	SDSUserIDSystem        = "https://fhir.nhs.uk/Id/sds-user-id"
	SDSRoleProfileIDSystem = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	ASIDSystem             = "https://fhir.nhs.uk/Id/nhsSpineASID"
)

// Lifetime is how long an identity token is valid: exp = iat + 5
// minutes, as GP Connect requires.
const Lifetime = 5 * time.Minute

// DefaultHeader is the header that carries the identity token when the
// Authorization header is taken by an OAuth2 access token.
const DefaultHeader = "X-Identity-Token"

// Identifier is a FHIR identifier inside an identity token.
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// HumanName is a FHIR HumanName inside an identity token.
type HumanName struct {
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	// Prefix holds titles ("Dr", "Prof") that came before the given
	// names.
	Prefix []string `json:"prefix,omitempty"`
}

// namePrefixes are the titles split off a requester's name into
// HumanName.Prefix.
var namePrefixes = map[string]bool{
	"dr": true, "prof": true, "professor": true, "mr": true, "mrs": true, "ms": true, "miss": true,
	"mx": true, "sir": true, "dame": true, "rev": true, "revd": true, "lord": true, "lady": true,
}

// humanName splits a display name into its titles, given names and
// family name: "Dr Amara Okafor" is prefix Dr, given Amara, family Okafor.
func humanName(full string) []HumanName {
	n := strings.Fields(full)
	if len(n) == 0 {
		return nil
	}
	name := HumanName{Text: strings.Join(n, " "), Family: n[len(n)-1]}
	rest := n[:len(n)-1]
	for len(rest) > 0 && namePrefixes[strings.ToLower(strings.TrimSuffix(rest[0], "."))] {
		name.Prefix = append(name.Prefix, rest[0])
		rest = rest[1:]
	}
	if len(rest) > 0 {
		name.Given = rest
	}
	return []HumanName{name}
}

// Device is the requesting_device claim: a FHIR Device naming the
// calling product.
type Device struct {
	ResourceType string       `json:"resourceType"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Model        string       `json:"model,omitempty"`
	Version      string       `json:"version,omitempty"`
}

// Organization is the requesting_organization claim: a FHIR Organization
// with the ODS code of the true originating organisation.
type Organization struct {
	ResourceType string       `json:"resourceType"`
	Identifier   []Identifier `json:"identifier"`
	Name         string       `json:"name,omitempty"`
}

// Practitioner is the requesting_practitioner claim: a FHIR Practitioner
// with the SDS user ID and role profile ID.
type Practitioner struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []Identifier `json:"identifier"`
	Name         []HumanName  `json:"name,omitempty"`
}

// IdentifierValue returns the value of the first identifier with system,
// or "".
func (p Practitioner) IdentifierValue(system string) string {
	return identifierValue(p.Identifier, system)
}

// IdentifierValue returns the value of the first identifier with system,
// or "".
func (o Organization) IdentifierValue(system string) string {
	return identifierValue(o.Identifier, system)
}

func identifierValue(ids []Identifier, system string) string {
	for _, id := range ids {
		if id.System == system {
			return id.Value
		}
	}
	return ""
}

// Role is the requesting_role claim: the national RBAC role the
// practitioner works in for this session and its activity codes, so that
// the provider can decide with its own policy which categories of record
// the role may see. GP Connect's token has no such claim; providers that
// do not decide per role ignore it.
type Role struct {
	// Code is the role code, Sxxxx:Gxxxx:Rxxxx.
	Code string `json:"code"`
	// Name is the role's display name.
	Name string `json:"name,omitempty"`
	// Activities are the role's activity codes (B-codes).
	Activities []string `json:"activities,omitempty"`
}

// Claims are the claims of the per-request identity token, in the
// GP Connect shape: who asks (requesting_practitioner), from where
// (requesting_organization), with what (requesting_device) and why
// (reason_for_request, requested_scope).
type Claims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	// ID is a unique token ID (jti), so a provider can spot a replay.
	ID string `json:"jti,omitempty"`
	// ReasonForRequest is "directcare".
	ReasonForRequest string `json:"reason_for_request"`
	// RequestedScope is "patient/*.read" followed by "conf/N" (normal
	// data only) or "conf/R" (restricted data too).
	RequestedScope string `json:"requested_scope"`
	// PurposeOfUse is the HL7 ActReason of the access (TREAT, ETREAT,
	// BTG), so the provider can tell emergency access apart.
	PurposeOfUse           string       `json:"purpose_of_use,omitempty"`
	RequestingDevice       Device       `json:"requesting_device"`
	RequestingOrganization Organization `json:"requesting_organization"`
	RequestingPractitioner Practitioner `json:"requesting_practitioner"`
	// RequestingRole is the practitioner's role, when the requester has
	// a role code.
	RequestingRole *Role `json:"requesting_role,omitempty"`
}

// Scopes of identity tokens.
const (
	ScopeNormal     = "patient/*.read conf/N"
	ScopeRestricted = "patient/*.read conf/R"
)

// New builds the identity claims for a request by r to a
// provider whose service root is audience, issued by issuer at now.
// restricted asks for restricted data too (conf/R).
func New(r shcrkit.Requester, purpose shcrkit.Purpose, audience, issuer string, restricted bool, now time.Time) Claims {
	if issuer == "" {
		issuer = r.System.Name
	}
	scope := ScopeNormal
	if restricted {
		scope = ScopeRestricted
	}
	dev := Device{ResourceType: "Device", Model: r.System.Name, Version: r.System.Version}
	if r.System.ASID != "" {
		dev.Identifier = []Identifier{{System: ASIDSystem, Value: r.System.ASID}}
	}
	prac := Practitioner{
		ResourceType: "Practitioner",
		ID:           r.UserID,
		Identifier: []Identifier{
			{System: SDSUserIDSystem, Value: r.UserID},
			{System: SDSRoleProfileIDSystem, Value: r.RoleProfileID},
		},
	}
	prac.Name = humanName(r.Name)
	var role *Role
	if r.RoleCode != "" {
		role = &Role{Code: r.RoleCode, Name: r.RoleName, Activities: slices.Clone(r.Activities)}
	}
	iat := now.Unix()
	return Claims{
		RequestingRole:   role,
		Issuer:           issuer,
		Subject:          r.UserID,
		Audience:         audience,
		IssuedAt:         iat,
		ExpiresAt:        iat + int64(Lifetime/time.Second),
		ID:               uuid.NewString(),
		ReasonForRequest: "directcare",
		RequestedScope:   scope,
		PurposeOfUse:     purpose.ActReason(),
		RequestingDevice: dev,
		RequestingOrganization: Organization{
			ResourceType: "Organization",
			Identifier:   []Identifier{{System: codesystem.ODS, Value: string(r.Organisation)}},
			Name:         r.OrganisationName,
		},
		RequestingPractitioner: prac,
	}
}

// The readings of the claims a provider serves by.

// Requester returns the professional as the claims state them: user and
// role profile from requesting_practitioner, organisation from
// requesting_organization, system from requesting_device, role from
// requesting_role.
func (c Claims) Requester() shcrkit.Requester {
	p := c.RequestingPractitioner
	r := shcrkit.Requester{
		UserID:           p.IdentifierValue(SDSUserIDSystem),
		RoleProfileID:    p.IdentifierValue(SDSRoleProfileIDSystem),
		Organisation:     shcrkit.ODSCode(c.RequestingOrganization.IdentifierValue(codesystem.ODS)),
		OrganisationName: c.RequestingOrganization.Name,
		System: shcrkit.System{Name: c.RequestingDevice.Model, Version: c.RequestingDevice.Version,
			ASID: identifierValue(c.RequestingDevice.Identifier, ASIDSystem)},
	}
	if len(p.Name) > 0 {
		r.Name = p.Name[0].Text
	}
	if c.RequestingRole != nil {
		r.RoleCode, r.RoleName = c.RequestingRole.Code, c.RequestingRole.Name
		r.Activities = slices.Clone(c.RequestingRole.Activities)
	}
	return r
}

// Family returns the practitioner's family name, or "".
func (c Claims) Family() string {
	if n := c.RequestingPractitioner.Name; len(n) > 0 {
		return n[0].Family
	}
	return ""
}

// Purpose returns the purpose of use stated: direct care when the claims
// state none, as GP Connect's tokens do, and an error matching
// ErrInvalid when purpose_of_use is not TREAT, ETREAT or BTG.
func (c Claims) Purpose() (shcrkit.Purpose, error) {
	if c.PurposeOfUse == "" {
		return shcrkit.PurposeDirectCare, nil
	}
	p, err := shcrkit.ParsePurpose(c.PurposeOfUse)
	if err != nil {
		return shcrkit.PurposeUnspecified, fmt.Errorf("%w: purpose_of_use is not TREAT, ETREAT or BTG", ErrInvalid)
	}
	return p, nil
}

// Restricted reports whether restricted data was asked for (conf/R).
func (c Claims) Restricted() bool { return c.RequestedScope == ScopeRestricted }

// The jwt.Claims methods, so that golang-jwt can validate the times.

// GetExpirationTime implements jwt.Claims.
func (c Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	if c.ExpiresAt == 0 {
		return nil, nil
	}
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}

// GetIssuedAt implements jwt.Claims.
func (c Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	if c.IssuedAt == 0 {
		return nil, nil
	}
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}

// GetNotBefore implements jwt.Claims.
func (c Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c Claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c Claims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c Claims) GetAudience() (jwt.ClaimStrings, error) {
	if c.Audience == "" {
		return nil, nil
	}
	return jwt.ClaimStrings{c.Audience}, nil
}

// Sign encodes c as a JWT signed with alg and key; alg "" or none makes
// an unsigned token. keyID, when set, is sent as the kid header of a
// signed token.
func Sign(alg jws.Algorithm, key crypto.Signer, keyID string, c Claims) (string, error) {
	if alg == "" {
		alg = jws.None
	}
	var header map[string]any
	if keyID != "" && alg != jws.None {
		header = map[string]any{"kid": keyID}
	}
	s, err := jws.Sign(alg, key, header, c)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return s, nil
}
