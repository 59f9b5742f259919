package balp

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/version"
)

// Coding returns a coding; an empty display is left out.
func Coding(system, code, display string) fhir.Coding {
	return fhir.Coding{System: &system, Code: &code, Display: NonEmpty(display)}
}

// Identifier returns an identifier of system with value.
func Identifier(system, value string) *fhir.Identifier {
	return &fhir.Identifier{System: &system, Value: &value}
}

// Instant writes t as a FHIR instant, in UTC.
func Instant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Ptr returns a pointer to a copy of v.
func Ptr[T any](v T) *T { return &v }

// NonEmpty returns a pointer to s, or nil for "".
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Str returns *p, or "" for nil.
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// HostNetwork is an agent's network: an IP address (type 2) or a machine
// name (type 1).
func HostNetwork(addr string) *fhir.AuditEventAgentNetwork {
	if addr == "" {
		return nil
	}
	nt := fhir.AuditEventAgentNetworkType1
	if net.ParseIP(addr) != nil {
		nt = fhir.AuditEventAgentNetworkType2
	}
	return &fhir.AuditEventAgentNetwork{Address: Ptr(addr), Type: &nt}
}

// PolicyReference names the policy and rule that decided.
func PolicyReference(policy, rule string) *fhir.Reference {
	display := "access policy"
	if policy != "" {
		display += " " + policy
	}
	if rule != "" {
		display += ", rule " + rule
	}
	ref := &fhir.Reference{Type: Ptr("Device"), Display: &display}
	if rule != "" {
		ref.Identifier = Identifier(PolicyRuleSystem+url.PathEscape(policy), rule)
	}
	return ref
}

// DataReference identifies what an event read in a way that resolves
// without knowing which service was called: a custodian's record by its
// pointer's business identifier, anything else by its absolute URL.
func DataReference(resource, endpoint string, custodian shcrkit.ODSCode) *fhir.Reference {
	typ, id, _ := strings.Cut(resource, "/")
	switch {
	case strings.Contains(resource, "://"):
		return &fhir.Reference{Reference: Ptr(resource)}
	case custodian != "" && id != "":
		ident := Identifier(PointerIDSystem, id)
		ident.Assigner = &fhir.Reference{Type: Ptr("Organization"), Identifier: Identifier(codesystem.ODS, string(custodian))}
		return &fhir.Reference{Type: NonEmpty(typ), Identifier: ident}
	case endpoint != "" && id != "":
		return &fhir.Reference{Reference: Ptr(strings.TrimSuffix(endpoint, "/") + "/" + resource), Type: NonEmpty(typ)}
	}
	return &fhir.Reference{Reference: Ptr(resource), Type: NonEmpty(typ)}
}

// ResourceFromReference is the inverse of DataReference: the relative
// "Type/id" and, for a business identifier, the custodian.
func ResourceFromReference(r fhir.Reference, endpoint string) (string, shcrkit.ODSCode) {
	typ := Str(r.Type)
	if id := r.Identifier; id != nil && Str(id.System) == PointerIDSystem && id.Value != nil {
		var custodian shcrkit.ODSCode
		if as := id.Assigner; as != nil && as.Identifier != nil && as.Identifier.Value != nil {
			custodian = shcrkit.ODSCode(*as.Identifier.Value)
		}
		return typ + "/" + *id.Value, custodian
	}
	if r.Reference == nil {
		return "", ""
	}
	ref := *r.Reference
	if base := strings.TrimSuffix(endpoint, "/") + "/"; endpoint != "" && strings.HasPrefix(ref, base) {
		return strings.TrimPrefix(ref, base), ""
	}
	return ref, ""
}

// OutcomeReference refers to the contained OperationOutcome.
func OutcomeReference() *fhir.Reference {
	return &fhir.Reference{Reference: Ptr("#" + OutcomeID), Type: Ptr("OperationOutcome")}
}

// ConfidentialityLabel is the security label of a restricted record, nil
// for an unrestricted one.
func ConfidentialityLabel(c shcrkit.Confidentiality) []fhir.Coding {
	if !c.Restricted() || !c.Valid() {
		return nil
	}
	return []fhir.Coding{c.Coding()}
}

// UserRole is a user agent's role: the job role and the role profile ID
// as codings, the role's name as text; nil when all are empty.
func UserRole(roleProfileID, jobRole, roleName string) *fhir.CodeableConcept {
	if roleProfileID == "" && jobRole == "" && roleName == "" {
		return nil
	}
	cc := &fhir.CodeableConcept{Text: NonEmpty(roleName)}
	if jobRole != "" {
		cc.Coding = append(cc.Coding, Coding(SystemSDSJobRole, jobRole, ""))
	}
	if roleProfileID != "" {
		cc.Coding = append(cc.Coding, Coding(SystemSDSRoleProfileID, roleProfileID, ""))
	}
	return cc
}

// DICOMRole is a DICOM role ID agent type: 110152 Destination or 110153
// Source.
func DICOMRole(code string) *fhir.CodeableConcept {
	display := "Source Role ID"
	if code == "110152" {
		display = "Destination Role ID"
	}
	return &fhir.CodeableConcept{Coding: []fhir.Coding{Coding(SystemDICOM, code, display)}}
}

// SystemReference identifies the calling product: its ASID when it has
// one, and its name and version.
func SystemReference(s shcrkit.System) fhir.Reference {
	ref := fhir.Reference{Type: Ptr("Device")}
	name := strings.TrimSpace(s.Name + " " + s.Version)
	if name == "" {
		name = DefaultDeviceDisplay + " " + version.SDK
	}
	ref.Display = &name
	if s.ASID != "" {
		ref.Identifier = Identifier(SystemASID, s.ASID)
	}
	return ref
}

// AgentType returns the system and code of an agent's first type coding.
func AgentType(ag fhir.AuditEventAgent) (system, code string) {
	if ag.Type == nil || len(ag.Type.Coding) == 0 {
		return "", ""
	}
	c := ag.Type.Coding[0]
	return Str(c.System), Str(c.Code)
}
