package audittest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit/audit/internal/balp"
)

// ErrBALP is matched by every error from CheckBALP.
var ErrBALP = errors.New("audittest: AuditEvent outside IHE BALP")

// CheckBALP holds the JSON of an AuditEvent to the IHE BALP profile its
// type selects, element by element, and returns the profile's name and
// every shortfall (each matching ErrBALP):
//
//   - DICOM 110113 Security Alert: AuthZconsent (subtype from
//     AuthZsubType, action E, outcome; agents client DICOM 110150 with who
//     and network, user IRCP requestor, user organisation PROV, authorizer
//     authserver, each with the elements the profile forbids absent;
//     entities closed to patient 1..1, consent 1..* and token 0..1);
//   - rest with a read subtype: Read, or PatientRead with a patient
//     entity (action R; client DICOM 110152 and server 110153, each with
//     who and network; user IRCP 0..1 requestor without network; data
//     entity 1..1 of audit-entity-type 2 with a RestObjectRoles role and a
//     what; transaction XrequestId 0..1 with a value);
//   - rest with a search subtype: Query or PatientQuery (action E; client
//     110153 and server 110152; query entity 1..1 of type 2 role 24 with
//     query in base64, without what, lifecycle or detail).
//
// The RESTful profiles fix outcome at 0 and say a failure "may follow
// this pattern ... and should have an OperationOutcome": a failed or
// refused RESTful event is held to everything else, and must refer from
// an entity to a contained OperationOutcome.
func CheckBALP(data []byte) (profile string, err error) {
	a, err := fhir.UnmarshalAuditEvent(data)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBALP, err)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBALP}, args...)...))
	}
	is := func(c *fhir.Coding, system, code string) bool {
		return c != nil && c.System != nil && *c.System == system && c.Code != nil && *c.Code == code
	}
	agentIs := func(ag fhir.AuditEventAgent, system, code string) bool {
		if ag.Type == nil {
			return false
		}
		for i := range ag.Type.Coding {
			if is(&ag.Type.Coding[i], system, code) {
				return true
			}
		}
		return false
	}
	agents := func(system, code string) []fhir.AuditEventAgent {
		var out []fhir.AuditEventAgent
		for _, ag := range a.Agent {
			if agentIs(ag, system, code) {
				out = append(out, ag)
			}
		}
		return out
	}
	one := func(slice string, ags []fhir.AuditEventAgent, min, max int) []fhir.AuditEventAgent {
		if len(ags) < min || len(ags) > max {
			bad("agent[%s]: %d present, want %d..%d", slice, len(ags), min, max)
		}
		return ags
	}
	absent := func(slice string, ag fhir.AuditEventAgent, elems ...string) {
		for _, el := range elems {
			present := false
			switch el {
			case "role":
				present = len(ag.Role) > 0
			case "altId":
				present = ag.AltId != nil
			case "name":
				present = ag.Name != nil
			case "location":
				present = ag.Location != nil
			case "policy":
				present = len(ag.Policy) > 0
			case "media":
				present = ag.Media != nil
			case "network":
				present = ag.Network != nil
			case "purposeOfUse":
				present = len(ag.PurposeOfUse) > 0
			}
			if present {
				bad("agent[%s].%s must be absent (0..0)", slice, el)
			}
		}
	}
	needWho := func(slice string, ag fhir.AuditEventAgent) {
		if ag.Who == nil {
			bad("agent[%s].who is required (1..1)", slice)
		}
	}
	needNetwork := func(slice string, ag fhir.AuditEventAgent) {
		if ag.Network == nil || ag.Network.Address == nil || *ag.Network.Address == "" || ag.Network.Type == nil {
			bad("agent[%s].network (address and type) is required (1..1)", slice)
		}
	}
	entityType := func(en fhir.AuditEventEntity, system, code string) bool { return is(en.Type, system, code) }
	patientEntities := func() (n int) {
		for _, en := range a.Entity {
			if entityType(en, balp.SystemEntityType, "1") {
				n++
				if !is(en.Role, balp.SystemObjectRole, "1") {
					bad("entity[patient].role must be object-role 1 Patient")
				}
				if en.What == nil || (en.What.Type != nil && *en.What.Type != "Patient") ||
					(en.What.Reference != nil && !strings.Contains(*en.What.Reference, "Patient/")) {
					bad("entity[patient].what must be a Reference(Patient)")
				}
			}
		}
		return n
	}
	transaction := func() {
		n := 0
		for _, en := range a.Entity {
			if entityType(en, balp.SystemBALPEntityType, "XrequestId") {
				n++
				if en.What == nil || en.What.Identifier == nil || en.What.Identifier.Value == nil || *en.What.Identifier.Value == "" {
					bad("entity[transaction].what.identifier.value is required")
				}
			}
		}
		if n > 1 {
			bad("entity[transaction]: %d present, want 0..1", n)
		}
	}
	user := func(ag fhir.AuditEventAgent) {
		needWho("user", ag)
		if !ag.Requestor {
			bad("agent[user].requestor must be true")
		}
		absent("user", ag, "media", "network")
	}
	restOutcome := func() {
		if a.Outcome == nil {
			bad("outcome is required")
			return
		}
		if *a.Outcome == fhir.AuditEventOutcome0 {
			return
		}
		found := false
		for _, en := range a.Entity {
			if en.What != nil && en.What.Reference != nil && strings.HasPrefix(*en.What.Reference, "#") {
				if containsOutcome(data, strings.TrimPrefix(*en.What.Reference, "#")) {
					found = true
				}
			}
		}
		if !found {
			bad("a failed or refused event must refer from an entity to a contained OperationOutcome")
		}
	}
	subtype := func(system string, codes ...string) bool {
		for i := range a.Subtype {
			for _, c := range codes {
				if is(&a.Subtype[i], system, c) {
					return true
				}
			}
		}
		return false
	}
	action := func(want fhir.AuditEventAction) {
		if a.Action == nil || *a.Action != want {
			bad("action must be %s", want.Code())
		}
	}
	if a.Recorded == "" {
		bad("recorded is required")
	}

	switch {
	case is(&a.Type, balp.SystemDICOM, "110113"):
		profile = "AuthZconsent"
		if !subtype(balp.SystemAuthZSubtype, "AuthZ-Consent", "AuthZ-Role") {
			bad("subtype from AuthZsubTypeVS is required")
		}
		action(fhir.AuditEventActionE)
		if a.Outcome == nil {
			bad("outcome is required")
		}
		if len(a.ModifierExtension) > 0 {
			bad("modifierExtension must be absent")
		}
		for _, ag := range one("client", agents(balp.SystemDICOM, "110150"), 1, 1) {
			needWho("client", ag)
			needNetwork("client", ag)
			absent("client", ag, "role", "altId", "name", "location", "media", "purposeOfUse")
		}
		for _, ag := range one("user", agents(balp.SystemParticipation, "IRCP"), 1, 1) {
			user(ag)
			absent("user", ag, "altId", "location")
		}
		for _, ag := range one("userorg", agents(balp.SystemRoleClass, "PROV"), 1, 1) {
			needWho("userorg", ag)
			if ag.Requestor {
				bad("agent[userorg].requestor must be false")
			}
			absent("userorg", ag, "role", "altId", "name", "location", "policy", "media", "network")
		}
		for _, ag := range one("authorizer", agents(balp.SystemSecurityRole, "authserver"), 1, 1) {
			needWho("authorizer", ag)
			if ag.Requestor {
				bad("agent[authorizer].requestor must be false")
			}
			absent("authorizer", ag, "role", "altId", "name", "location", "policy", "media", "network", "purposeOfUse")
		}
		if len(a.Entity) < 2 {
			bad("entity: %d present, want 2..*", len(a.Entity))
		}
		consents, tokens := 0, 0
		for i, en := range a.Entity {
			switch {
			case entityType(en, balp.SystemEntityType, "1"):
			case entityType(en, balp.SystemResourceTypes, "Consent"):
				consents++
				if en.What == nil {
					bad("entity[consent].what is required")
				}
			case entityType(en, balp.SystemUserAgent, "UserOauthAgent"):
				tokens++
			default:
				bad("entity[%d] matches no slice of a closed list (patient, consent, token)", i)
			}
		}
		if n := patientEntities(); n != 1 {
			bad("entity[patient]: %d present, want 1..1", n)
		}
		if consents < 1 {
			bad("entity[consent]: none present, want 1..*")
		}
		if tokens > 1 {
			bad("entity[token]: %d present, want 0..1", tokens)
		}

	case is(&a.Type, balp.SystemAuditEventType, "rest") && subtype(balp.SystemRestful, "read", "vread"):
		profile = "Read"
		action(fhir.AuditEventActionR)
		restOutcome()
		for _, ag := range one("client", agents(balp.SystemDICOM, "110152"), 1, 1) {
			needWho("client", ag)
			needNetwork("client", ag)
			absent("client", ag, "media")
		}
		for _, ag := range one("server", agents(balp.SystemDICOM, "110153"), 1, 1) {
			needWho("server", ag)
			needNetwork("server", ag)
			absent("server", ag, "media")
		}
		for _, ag := range one("user", agents(balp.SystemParticipation, "IRCP"), 0, 1) {
			user(ag)
		}
		transaction()
		data := 0
		for _, en := range a.Entity {
			if entityType(en, balp.SystemEntityType, "2") {
				data++
				if !is(en.Role, balp.SystemObjectRole, "4") && !is(en.Role, balp.SystemObjectRole, "3") && !is(en.Role, balp.SystemObjectRole, "20") {
					bad("entity[data].role must come from RestObjectRoles (4, 3 or 20)")
				}
				if en.What == nil {
					bad("entity[data].what is required")
				}
			}
		}
		if data != 1 {
			bad("entity[data]: %d present, want 1..1", data)
		}
		if n := patientEntities(); n > 0 {
			profile = "PatientRead"
			if n != 1 {
				bad("entity[patient]: %d present, want 1..1", n)
			}
		}

	case is(&a.Type, balp.SystemAuditEventType, "rest") && subtype(balp.SystemRestful, "search", "search-type", "search-system"):
		profile = "Query"
		action(fhir.AuditEventActionE)
		restOutcome()
		for _, ag := range one("client", agents(balp.SystemDICOM, "110153"), 1, 1) {
			needWho("client", ag)
			needNetwork("client", ag)
			absent("client", ag, "media")
		}
		for _, ag := range one("server", agents(balp.SystemDICOM, "110152"), 1, 1) {
			needWho("server", ag)
			needNetwork("server", ag)
			absent("server", ag, "media")
		}
		for _, ag := range one("user", agents(balp.SystemParticipation, "IRCP"), 0, 1) {
			user(ag)
		}
		transaction()
		queries := 0
		for _, en := range a.Entity {
			if entityType(en, balp.SystemEntityType, "2") && is(en.Role, balp.SystemObjectRole, "24") {
				queries++
				if en.What != nil || en.Lifecycle != nil || len(en.Detail) > 0 {
					bad("entity[query] must have no what, lifecycle or detail")
				}
				if en.Query == nil {
					bad("entity[query].query is required (1..1)")
				} else if _, err := base64.StdEncoding.DecodeString(*en.Query); err != nil {
					bad("entity[query].query is not base64")
				}
			}
		}
		if queries != 1 {
			bad("entity[query]: %d present, want 1..1", queries)
		}
		if n := patientEntities(); n > 0 {
			profile = "PatientQuery"
			if n != 1 {
				bad("entity[patient]: %d present, want 1..1", n)
			}
		}

	default:
		return "", fmt.Errorf("%w: no BALP profile for type %v with subtype %v", ErrBALP, codeOf(&a.Type), a.Subtype)
	}
	return profile, errors.Join(errs...)
}

func codeOf(c *fhir.Coding) string {
	if c == nil || c.Code == nil {
		return ""
	}
	return *c.Code
}

// containsOutcome reports whether the AuditEvent's JSON contains an
// OperationOutcome with the given id that has at least one issue.
func containsOutcome(data []byte, id string) bool {
	var raw struct {
		Contained []struct {
			ResourceType string            `json:"resourceType"`
			ID           string            `json:"id"`
			Issue        []json.RawMessage `json:"issue"`
		} `json:"contained"`
	}
	if json.Unmarshal(data, &raw) != nil {
		return false
	}
	for _, c := range raw.Contained {
		if c.ResourceType == "OperationOutcome" && c.ID == id && len(c.Issue) > 0 {
			return true
		}
	}
	return false
}
