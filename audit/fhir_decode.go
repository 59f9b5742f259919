package audit

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/internal/balp"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/patientquery"
)

// DecodeFHIR reads an AuditEvent written by MarshalFHIR (or ToFHIR) back
// into the Event it was made from: it is checked as ParseFHIR checks it,
// then mapped back, with the error code and reason also read from a
// contained OperationOutcome when the AuditEvent carries them only there.
// DecodeFHIR(MarshalFHIR(e)) equals e for an event as a sink stores it
// (Normalize). An AuditEvent from elsewhere is read as far as it goes; one
// that yields no valid event gives an error matching ErrInvalidFHIR (and
// ErrInvalidEvent for what Event.Validate finds).
func DecodeFHIR(data []byte) (Event, error) {
	a, err := ParseFHIR(data)
	if err != nil {
		return Event{}, err
	}
	e, err := eventFromFHIR(a)
	if err != nil {
		return Event{}, err
	}
	if e.ErrorCode == "" || e.Reason == "" {
		oo, _ := balp.ContainedOutcome(data)
		if oo != nil && len(oo.Issue) > 0 && oo.Issue[0].Details != nil {
			d := oo.Issue[0].Details
			for _, c := range d.Coding {
				if e.ErrorCode == "" && c.System != nil && *c.System == balp.ErrorCodeSystem && c.Code != nil {
					e.ErrorCode = *c.Code
				}
			}
			if e.Reason == "" && d.Text != nil {
				e.Reason = *d.Text
			}
		}
	}
	return e, nil
}

// eventFromFHIR maps an AuditEvent made by ToFHIR back to the Event it
// was made from: eventFromFHIR(ToFHIR(e)) equals e for an event as a
// sink stores it (Normalize), written or not. An AuditEvent from
// elsewhere is read as far as it goes. The result is validated; an
// AuditEvent that yields no valid event gives an error matching
// ErrInvalidFHIR (and ErrInvalidEvent for what Validate finds).
func eventFromFHIR(a fhir.AuditEvent) (Event, error) {
	d := fhirDecoder{ext: map[string][]fhir.Extension{}}
	for _, x := range a.Extension {
		d.ext[x.Url] = append(d.ext[x.Url], x)
	}
	e := &d.e
	d.decision = balp.Str(a.Type.System) == balp.SystemDICOM && balp.Str(a.Type.Code) == "110113"
	if d.decision {
		e.Kind = KindDecision
		e.Action = Action(d.extString(balp.ExtensionDecidedAction))
	} else {
		e.Action = actionFromFHIR(a)
	}
	e.Service = Service(d.extString(balp.ExtensionService))
	d.readTimes(a)
	d.readOutcome(a)
	d.readExtensions()
	if a.Source.Site != nil {
		e.Requester.Organisation = shcrkit.ODSCode(*a.Source.Site)
	}
	if id := a.Source.Observer.Identifier; id != nil && balp.Str(id.System) == balp.SystemASID {
		e.Requester.System.ASID = balp.Str(id.Value)
	}
	for _, ag := range a.Agent {
		d.readAgent(ag)
	}
	for _, en := range a.Entity {
		d.readEntity(en)
	}
	if e.Patient != "" {
		e.Query = patientquery.Redact(e.Query, e.Patient)
		e.Request = patientquery.Redact(e.Request, e.Patient)
	}
	if err := e.Validate(); err != nil {
		d.errs = append(d.errs, fmt.Errorf("%w: %w", ErrInvalidFHIR, err))
	}
	if err := errors.Join(d.errs...); err != nil {
		return Event{}, err
	}
	return d.e, nil
}

// fhirDecoder builds an Event from an AuditEvent, part by part.
type fhirDecoder struct {
	e        Event
	ext      map[string][]fhir.Extension // the AuditEvent's extensions by URL
	decision bool
	errs     []error
}

func (d *fhirDecoder) bad(format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidFHIR}, args...)...))
}

// extString returns the first value of the extension with URL u.
func (d *fhirDecoder) extString(u string) string {
	for _, x := range d.ext[u] {
		switch {
		case x.ValueString != nil:
			return *x.ValueString
		case x.ValueCode != nil:
			return *x.ValueCode
		case x.ValueUri != nil:
			return *x.ValueUri
		case x.ValueUuid != nil:
			return *x.ValueUuid
		}
	}
	return ""
}

// readTimes reads Time, Recorded and Seq.
func (d *fhirDecoder) readTimes(a fhir.AuditEvent) {
	e := &d.e
	if a.Period != nil && a.Period.Start != nil {
		t, err := time.Parse(time.RFC3339Nano, *a.Period.Start)
		if err != nil {
			d.bad("period.start %q is not an instant", *a.Period.Start)
		}
		e.Time = t.UTC()
	}
	rec, err := time.Parse(time.RFC3339Nano, a.Recorded)
	if err != nil {
		d.bad("recorded %q is not an instant", a.Recorded)
	}
	if e.Time.IsZero() {
		e.Time = rec.UTC()
	}
	if s := d.extString(balp.ExtensionSequence); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			d.bad("sequence %q is not a number", s)
		}
		e.Seq = n
	}
	if e.Seq != 0 || !rec.Equal(e.Time) {
		e.Recorded = rec.UTC()
	}
}

// readOutcome reads Outcome, Reason and Purpose.
func (d *fhirDecoder) readOutcome(a fhir.AuditEvent) {
	e := &d.e
	if a.Outcome != nil {
		switch *a.Outcome {
		case fhir.AuditEventOutcome0:
			e.Outcome = OutcomeSuccess
		case fhir.AuditEventOutcome4:
			e.Outcome = OutcomeRefused
		default:
			e.Outcome = OutcomeFailed
		}
	}
	e.Reason = balp.Str(a.OutcomeDesc)
	for _, pe := range a.PurposeOfEvent {
		for _, c := range pe.Coding {
			if balp.Str(c.System) == codesystem.ActReason {
				if p, err := shcrkit.ParsePurpose(balp.Str(c.Code)); err == nil {
					e.Purpose = p
				}
			}
		}
	}
}

// readExtensions reads what ToFHIR keeps in extensions.
func (d *fhirDecoder) readExtensions() {
	e := &d.e
	e.CorrelationID = d.extString(balp.ExtensionCorrelationID)
	if s := d.extString(balp.ExtensionRelationship); s != "" {
		k, err := shcrkit.ParseRelationshipKind(s)
		if err != nil {
			d.bad("relationship %q: %v", s, err)
		}
		e.Relationship = k
	}
	e.RelationshipEvidence = d.extString(balp.ExtensionRelationshipEvidence)
	e.RelationshipVerification = d.extString(balp.ExtensionRelationshipVerification)
	e.AdHocSharing = d.extString(balp.ExtensionAdHocSharing)
	e.ErrorCode = d.extString(balp.ExtensionErrorCode)
	e.Policy = d.extString(balp.ExtensionPolicy)
	e.UserFamily = d.extString(balp.ExtensionUserFamily)
	e.PatientFamily = d.extString(balp.ExtensionPatientFamily)
	e.Requester.RoleCode = d.extString(balp.ExtensionRoleCode)
	for _, x := range d.ext[balp.ExtensionActivity] {
		e.Requester.Activities = append(e.Requester.Activities, balp.Str(x.ValueCode))
	}
	for _, x := range d.ext[balp.ExtensionAssuranceLevel] {
		if x.ValueInteger != nil {
			e.Requester.AssuranceLevel = *x.ValueInteger
		}
	}
	e.Requester.System.Name = d.extString(balp.ExtensionSystemName)
	e.Requester.System.Version = d.extString(balp.ExtensionSystemVersion)
	if s := d.extString(balp.ExtensionInvestigation); s != "" {
		var inv Investigation
		if err := json.Unmarshal([]byte(s), &inv); err != nil {
			d.bad("investigation does not decode: %v", err)
		} else {
			e.Investigation = &inv
		}
	}
	if id := d.extString(balp.ExtensionDecisionID); id != "" {
		e.DecisionID = strings.TrimPrefix(id, "urn:uuid:")
	}
	for _, x := range d.ext[balp.ExtensionDecisionRecord] {
		if x.ValueReference != nil {
			e.Resource, e.Custodian = balp.ResourceFromReference(*x.ValueReference, "")
		}
	}
}

// whoID is the value of an agent's who identifier.
func whoID(ag fhir.AuditEventAgent) string {
	if ag.Who == nil || ag.Who.Identifier == nil {
		return ""
	}
	return balp.Str(ag.Who.Identifier.Value)
}

// readAgent reads one agent, recognised by its type.
func (d *fhirDecoder) readAgent(ag fhir.AuditEventAgent) {
	e := &d.e
	system, code := balp.AgentType(ag)
	switch {
	case system == balp.SystemParticipation && code == "IRCP":
		d.readUser(ag)
	case system == balp.SystemRoleClass && code == "PROV":
		if ag.Who != nil {
			if ag.Who.Identifier != nil {
				e.Requester.Organisation = shcrkit.ODSCode(whoID(ag))
			}
			e.Requester.OrganisationName = balp.Str(ag.Who.Display)
		}
		if ag.Requestor {
			d.readPurposeOfUse(ag.PurposeOfUse)
		}
	case system == balp.SystemParticipation && code == "RESP":
		e.OnBehalfOf = &Authority{
			UserID: whoID(ag), Name: balp.Str(ag.Name), RoleProfileID: balp.Str(ag.AltId),
			RoleCode:     d.extString(balp.ExtensionOnBehalfOfRoleCode),
			Organisation: shcrkit.ODSCode(d.extString(balp.ExtensionOnBehalfOfOrganisation)),
		}
	case system == balp.SystemSecurityRole && code == "authserver":
		d.readAuthorizer(ag)
	case system == balp.SystemDICOM && (code == "110150" || code == "110152" || code == "110153"):
		client := code == "110150" ||
			(code == "110152") == (e.Action == ActionRead || e.Action == ActionDisclose)
		if !client {
			d.readServer(ag)
		} else if ag.Network != nil {
			e.ClientAddress = balp.Str(ag.Network.Address)
		}
	}
}

// readUser reads the user agent.
func (d *fhirDecoder) readUser(ag fhir.AuditEventAgent) {
	r := &d.e.Requester
	r.UserID = whoID(ag)
	r.Name = balp.Str(ag.Name)
	r.RoleProfileID = balp.Str(ag.AltId)
	for _, role := range ag.Role {
		r.RoleName = balp.Str(role.Text)
		for _, c := range role.Coding {
			if balp.Str(c.System) == balp.SystemSDSRoleProfileID {
				r.RoleProfileID = balp.Str(c.Code)
			}
		}
	}
	if len(ag.Policy) > 0 && !d.decision {
		d.e.Rule = ag.Policy[0]
	}
	d.readPurposeOfUse(ag.PurposeOfUse)
}

// readAuthorizer reads the policy and rule of a decision.
func (d *fhirDecoder) readAuthorizer(ag fhir.AuditEventAgent) {
	if ag.Who == nil {
		return
	}
	if id := ag.Who.Identifier; id != nil && strings.HasPrefix(balp.Str(id.System), balp.PolicyRuleSystem) {
		p, err := url.PathUnescape(strings.TrimPrefix(balp.Str(id.System), balp.PolicyRuleSystem))
		if err != nil {
			d.bad("authorizer policy does not unescape")
		}
		d.e.Policy, d.e.Rule = p, balp.Str(id.Value)
		return
	}
	d.e.Policy = strings.TrimSpace(strings.TrimPrefix(balp.Str(ag.Who.Display), "access policy"))
}

// readServer reads the agent of the service called.
func (d *fhirDecoder) readServer(ag fhir.AuditEventAgent) {
	e := &d.e
	for _, x := range ag.Extension {
		if x.Url == balp.ExtensionEndpoint && x.ValueUri != nil {
			e.Endpoint = *x.ValueUri
		}
	}
	if ag.Network != nil {
		if ag.Network.Type != nil && *ag.Network.Type == fhir.AuditEventAgentNetworkType5 {
			e.Endpoint = balp.Str(ag.Network.Address)
		} else {
			e.ServerAddress = balp.Str(ag.Network.Address)
		}
	}
	if ag.Who != nil && ag.Who.Identifier != nil && balp.Str(ag.Who.Identifier.System) == codesystem.ODS {
		e.Custodian = shcrkit.ODSCode(whoID(ag))
	}
}

func (d *fhirDecoder) readPurposeOfUse(pou []fhir.CodeableConcept) {
	for _, cc := range pou {
		if cc.Text != nil {
			d.e.BreakGlassReason = *cc.Text
		}
	}
}

// readEntity reads one entity, recognised by its type and role.
func (d *fhirDecoder) readEntity(en fhir.AuditEventEntity) {
	e := &d.e
	var tsys, tcode, rcode string
	if en.Type != nil {
		tsys, tcode = balp.Str(en.Type.System), balp.Str(en.Type.Code)
	}
	if en.Role != nil {
		rcode = balp.Str(en.Role.Code)
	}
	hasID := en.What != nil && en.What.Identifier != nil
	whatID := ""
	if hasID {
		whatID = balp.Str(en.What.Identifier.Value)
	}
	switch {
	case tsys == balp.SystemEntityType && tcode == "1" && rcode == "1":
		if hasID {
			e.Patient = shcrkit.NHSNumber(whatID)
		}
		if c := shcrkit.ConfidentialityOf(en.SecurityLabel...); c.Restricted() {
			e.Confidentiality = c
		}
	case tsys == balp.SystemEntityType && tcode == "2" && rcode == "24":
		d.readQuery(en)
	case tsys == balp.SystemEntityType && tcode == "2":
		if en.What != nil {
			e.Resource, _ = balp.ResourceFromReference(*en.What, e.Endpoint)
		}
		if c := shcrkit.ConfidentialityOf(en.SecurityLabel...); c.Restricted() {
			e.Confidentiality = c
		}
	case tsys == balp.SystemBALPEntityType && tcode == "XrequestId":
		if hasID {
			e.RequestID = whatID
		}
	case tsys == balp.SystemEntityType && tcode == "4" && rcode == "13":
		if hasID {
			e.DecisionID = strings.TrimPrefix(whatID, "urn:uuid:")
		}
	}
}

// readQuery reads the query entity of a search.
func (d *fhirDecoder) readQuery(en fhir.AuditEventEntity) {
	e := &d.e
	cleaned := balp.Str(en.Description)
	typ, q, _ := strings.Cut(cleaned, "?")
	if e.Resource == "" {
		e.Resource = typ
	}
	e.Query = q
	if en.Query != nil {
		raw, err := base64.StdEncoding.DecodeString(*en.Query)
		if err != nil {
			d.bad("entity query is not base64")
		}
		if string(raw) != cleaned {
			e.Request = string(raw)
		}
	}
}

func actionFromFHIR(a fhir.AuditEvent) Action {
	for _, s := range a.Subtype {
		if s.System != nil && *s.System == balp.SystemLifecycle && s.Code != nil && *s.Code == "disclose" {
			return ActionDisclose
		}
	}
	for _, s := range a.Subtype {
		if s.System == nil || *s.System != balp.SystemRestful || s.Code == nil {
			continue
		}
		switch *s.Code {
		case "read", "vread":
			return ActionRead
		case "search", "search-type", "search-system":
			return ActionSearch
		case "create":
			return ActionCreate
		case "update", "patch":
			return ActionUpdate
		case "delete":
			return ActionDelete
		}
	}
	if a.Action != nil {
		switch *a.Action {
		case fhir.AuditEventActionR:
			return ActionRead
		case fhir.AuditEventActionE:
			return ActionSearch
		case fhir.AuditEventActionC:
			return ActionCreate
		case fhir.AuditEventActionU:
			return ActionUpdate
		case fhir.AuditEventActionD:
			return ActionDelete
		}
	}
	return ""
}
