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

// errBALP starts every error from CheckBALP, which returns no other kind.
var errBALP = errors.New("audittest: AuditEvent outside IHE BALP")

// CheckBALP holds the JSON of an AuditEvent to the IHE BALP profile its
// type selects, element by element, and returns the profile's name and
// every shortfall, joined in one error:
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
		return "", fmt.Errorf("%w: %v", errBALP, err)
	}
	c := &balpCheck{a: a, data: data}
	if a.Recorded == "" {
		c.bad("recorded is required")
	}
	switch {
	case is(&a.Type, balp.SystemDICOM, "110113"):
		profile = c.authZConsent()
	case is(&a.Type, balp.SystemAuditEventType, "rest") && c.subtype(balp.SystemRestful, "read", "vread"):
		profile = c.read()
	case is(&a.Type, balp.SystemAuditEventType, "rest") && c.subtype(balp.SystemRestful, "search", "search-type", "search-system"):
		profile = c.query()
	default:
		return "", fmt.Errorf("%w: no BALP profile for type %v with subtype %v", errBALP, codeOf(&a.Type), a.Subtype)
	}
	return profile, errors.Join(c.errs...)
}

// balpCheck holds an AuditEvent to a BALP profile and collects every
// shortfall.
type balpCheck struct {
	a    fhir.AuditEvent
	data []byte // the event's JSON, for its contained resources
	errs []error
}

func (c *balpCheck) bad(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{errBALP}, args...)...))
}

// is reports whether the coding is code of system.
func is(c *fhir.Coding, system, code string) bool {
	return c != nil && c.System != nil && *c.System == system && c.Code != nil && *c.Code == code
}

// agentIs reports whether the agent's type has the coding code of system.
func agentIs(ag fhir.AuditEventAgent, system, code string) bool {
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

// agents returns the event's agents of the slice whose type is code of
// system, and checks that there are min..max of them.
func (c *balpCheck) agents(slice, system, code string, min, max int) []fhir.AuditEventAgent {
	var out []fhir.AuditEventAgent
	for _, ag := range c.a.Agent {
		if agentIs(ag, system, code) {
			out = append(out, ag)
		}
	}
	if len(out) < min || len(out) > max {
		c.bad("agent[%s]: %d present, want %d..%d", slice, len(out), min, max)
	}
	return out
}

// agentElements tell whether an agent has each element a profile may
// forbid.
var agentElements = map[string]func(fhir.AuditEventAgent) bool{
	"role":         func(ag fhir.AuditEventAgent) bool { return len(ag.Role) > 0 },
	"altId":        func(ag fhir.AuditEventAgent) bool { return ag.AltId != nil },
	"name":         func(ag fhir.AuditEventAgent) bool { return ag.Name != nil },
	"location":     func(ag fhir.AuditEventAgent) bool { return ag.Location != nil },
	"policy":       func(ag fhir.AuditEventAgent) bool { return len(ag.Policy) > 0 },
	"media":        func(ag fhir.AuditEventAgent) bool { return ag.Media != nil },
	"network":      func(ag fhir.AuditEventAgent) bool { return ag.Network != nil },
	"purposeOfUse": func(ag fhir.AuditEventAgent) bool { return len(ag.PurposeOfUse) > 0 },
}

// absent checks that the agent has none of the elements.
func (c *balpCheck) absent(slice string, ag fhir.AuditEventAgent, elems ...string) {
	for _, el := range elems {
		if agentElements[el](ag) {
			c.bad("agent[%s].%s must be absent (0..0)", slice, el)
		}
	}
}

func (c *balpCheck) needWho(slice string, ag fhir.AuditEventAgent) {
	if ag.Who == nil {
		c.bad("agent[%s].who is required (1..1)", slice)
	}
}

// needRequestor checks the agent's requestor flag.
func (c *balpCheck) needRequestor(slice string, ag fhir.AuditEventAgent, want bool) {
	if ag.Requestor != want {
		c.bad("agent[%s].requestor must be %t", slice, want)
	}
}

func (c *balpCheck) needNetwork(slice string, ag fhir.AuditEventAgent) {
	if ag.Network == nil || ag.Network.Address == nil || *ag.Network.Address == "" || ag.Network.Type == nil {
		c.bad("agent[%s].network (address and type) is required (1..1)", slice)
	}
}

// system checks a client or server system agent: 1..1, with who and
// network, and the elements the profile forbids absent.
func (c *balpCheck) system(slice, code string, forbidden ...string) {
	for _, ag := range c.agents(slice, balp.SystemDICOM, code, 1, 1) {
		c.needWho(slice, ag)
		c.needNetwork(slice, ag)
		c.absent(slice, ag, forbidden...)
	}
}

// user checks the user agents (IRCP), min..1 of them: who, requestor,
// no media or network, nor the other elements forbidden.
func (c *balpCheck) user(min int, forbidden ...string) {
	for _, ag := range c.agents("user", balp.SystemParticipation, "IRCP", min, 1) {
		c.needWho("user", ag)
		c.needRequestor("user", ag, true)
		c.absent("user", ag, append([]string{"media", "network"}, forbidden...)...)
	}
}

func (c *balpCheck) subtype(system string, codes ...string) bool {
	for i := range c.a.Subtype {
		for _, code := range codes {
			if is(&c.a.Subtype[i], system, code) {
				return true
			}
		}
	}
	return false
}

func (c *balpCheck) action(want fhir.AuditEventAction) {
	if c.a.Action == nil || *c.a.Action != want {
		c.bad("action must be %s", want.Code())
	}
}

// entities returns the entities whose type is code of system.
func (c *balpCheck) entities(system, code string) []fhir.AuditEventEntity {
	var out []fhir.AuditEventEntity
	for _, en := range c.a.Entity {
		if is(en.Type, system, code) {
			out = append(out, en)
		}
	}
	return out
}

// patientEntities checks the patient entities and returns how many there
// are.
func (c *balpCheck) patientEntities() int {
	ens := c.entities(balp.SystemEntityType, "1")
	for _, en := range ens {
		if !is(en.Role, balp.SystemObjectRole, "1") {
			c.bad("entity[patient].role must be object-role 1 Patient")
		}
		if en.What == nil || (en.What.Type != nil && *en.What.Type != "Patient") ||
			(en.What.Reference != nil && !strings.Contains(*en.What.Reference, "Patient/")) {
			c.bad("entity[patient].what must be a Reference(Patient)")
		}
	}
	return len(ens)
}

// patientProfile returns profile, or patient (the profile's patient
// variant) when the event has a patient entity, which must then be the
// only one.
func (c *balpCheck) patientProfile(profile, patient string) string {
	n := c.patientEntities()
	if n == 0 {
		return profile
	}
	if n != 1 {
		c.bad("entity[patient]: %d present, want 1..1", n)
	}
	return patient
}

// transaction checks the X-Request-ID entity, 0..1 of it, with a value.
func (c *balpCheck) transaction() {
	ens := c.entities(balp.SystemBALPEntityType, "XrequestId")
	for _, en := range ens {
		if en.What == nil || en.What.Identifier == nil || en.What.Identifier.Value == nil || *en.What.Identifier.Value == "" {
			c.bad("entity[transaction].what.identifier.value is required")
		}
	}
	if len(ens) > 1 {
		c.bad("entity[transaction]: %d present, want 0..1", len(ens))
	}
}

// restOutcome checks the outcome of a RESTful event: a failure or refusal
// refers from an entity to a contained OperationOutcome.
func (c *balpCheck) restOutcome() {
	if c.a.Outcome == nil {
		c.bad("outcome is required")
		return
	}
	if *c.a.Outcome == fhir.AuditEventOutcome0 {
		return
	}
	for _, en := range c.a.Entity {
		if en.What != nil && en.What.Reference != nil && strings.HasPrefix(*en.What.Reference, "#") &&
			containsOutcome(c.data, strings.TrimPrefix(*en.What.Reference, "#")) {
			return
		}
	}
	c.bad("a failed or refused event must refer from an entity to a contained OperationOutcome")
}

// rest checks what the RESTful profiles share: the action, the outcome,
// the client and server systems (DICOM codes client and server), the
// optional user and the transaction.
func (c *balpCheck) rest(action fhir.AuditEventAction, client, server string) {
	c.action(action)
	c.restOutcome()
	c.system("client", client, "media")
	c.system("server", server, "media")
	c.user(0)
	c.transaction()
}

// read checks the Read and PatientRead profiles.
func (c *balpCheck) read() string {
	c.rest(fhir.AuditEventActionR, "110152", "110153")
	data := c.entities(balp.SystemEntityType, "2")
	for _, en := range data {
		if !is(en.Role, balp.SystemObjectRole, "4") && !is(en.Role, balp.SystemObjectRole, "3") && !is(en.Role, balp.SystemObjectRole, "20") {
			c.bad("entity[data].role must come from RestObjectRoles (4, 3 or 20)")
		}
		if en.What == nil {
			c.bad("entity[data].what is required")
		}
	}
	if len(data) != 1 {
		c.bad("entity[data]: %d present, want 1..1", len(data))
	}
	return c.patientProfile("Read", "PatientRead")
}

// query checks the Query and PatientQuery profiles.
func (c *balpCheck) query() string {
	c.rest(fhir.AuditEventActionE, "110153", "110152")
	queries := 0
	for _, en := range c.entities(balp.SystemEntityType, "2") {
		if !is(en.Role, balp.SystemObjectRole, "24") {
			continue
		}
		queries++
		if en.What != nil || en.Lifecycle != nil || len(en.Detail) > 0 {
			c.bad("entity[query] must have no what, lifecycle or detail")
		}
		if en.Query == nil {
			c.bad("entity[query].query is required (1..1)")
		} else if _, err := base64.StdEncoding.DecodeString(*en.Query); err != nil {
			c.bad("entity[query].query is not base64")
		}
	}
	if queries != 1 {
		c.bad("entity[query]: %d present, want 1..1", queries)
	}
	return c.patientProfile("Query", "PatientQuery")
}

// authZConsent checks the AuthZconsent profile.
func (c *balpCheck) authZConsent() string {
	if !c.subtype(balp.SystemAuthZSubtype, "AuthZ-Consent", "AuthZ-Role") {
		c.bad("subtype from AuthZsubTypeVS is required")
	}
	c.action(fhir.AuditEventActionE)
	if c.a.Outcome == nil {
		c.bad("outcome is required")
	}
	if len(c.a.ModifierExtension) > 0 {
		c.bad("modifierExtension must be absent")
	}
	c.system("client", "110150", "role", "altId", "name", "location", "media", "purposeOfUse")
	c.user(1, "altId", "location")
	for _, ag := range c.agents("userorg", balp.SystemRoleClass, "PROV", 1, 1) {
		c.needWho("userorg", ag)
		c.needRequestor("userorg", ag, false)
		c.absent("userorg", ag, "role", "altId", "name", "location", "policy", "media", "network")
	}
	for _, ag := range c.agents("authorizer", balp.SystemSecurityRole, "authserver", 1, 1) {
		c.needWho("authorizer", ag)
		c.needRequestor("authorizer", ag, false)
		c.absent("authorizer", ag, "role", "altId", "name", "location", "policy", "media", "network", "purposeOfUse")
	}
	c.authZEntities()
	return "AuthZconsent"
}

// authZEntities checks the closed list of AuthZconsent entities: patient
// 1..1, consent 1..*, token 0..1.
func (c *balpCheck) authZEntities() {
	if len(c.a.Entity) < 2 {
		c.bad("entity: %d present, want 2..*", len(c.a.Entity))
	}
	for i, en := range c.a.Entity {
		if !is(en.Type, balp.SystemEntityType, "1") && !is(en.Type, balp.SystemResourceTypes, "Consent") &&
			!is(en.Type, balp.SystemUserAgent, "UserOauthAgent") {
			c.bad("entity[%d] matches no slice of a closed list (patient, consent, token)", i)
		}
	}
	consents := c.entities(balp.SystemResourceTypes, "Consent")
	for _, en := range consents {
		if en.What == nil {
			c.bad("entity[consent].what is required")
		}
	}
	if n := c.patientEntities(); n != 1 {
		c.bad("entity[patient]: %d present, want 1..1", n)
	}
	if len(consents) < 1 {
		c.bad("entity[consent]: none present, want 1..*")
	}
	if n := len(c.entities(balp.SystemUserAgent, "UserOauthAgent")); n > 1 {
		c.bad("entity[token]: %d present, want 0..1", n)
	}
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
