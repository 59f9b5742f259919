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
)

// DecodeFHIR reads an AuditEvent written by MarshalFHIR (or ToFHIR) back
// into the Event it was made from: ParseFHIR, then EventFromFHIR, with
// the error code and reason also read from a contained OperationOutcome
// when the AuditEvent carries them only there.
func DecodeFHIR(data []byte) (Event, error) {
	a, err := ParseFHIR(data)
	if err != nil {
		return Event{}, err
	}
	e, err := EventFromFHIR(a)
	if err != nil {
		return Event{}, err
	}
	if e.ErrorCode == "" || e.Reason == "" {
		oo, _ := containedOutcome(data)
		if oo != nil && len(oo.Issue) > 0 && oo.Issue[0].Details != nil {
			d := oo.Issue[0].Details
			for _, c := range d.Coding {
				if e.ErrorCode == "" && c.System != nil && *c.System == ErrorCodeSystem && c.Code != nil {
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

// containedOutcome returns the contained OperationOutcome with id
// OutcomeID, if any.
func containedOutcome(data []byte) (*fhir.OperationOutcome, error) {
	var raw struct {
		Contained []json.RawMessage `json:"contained"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	for _, c := range raw.Contained {
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if json.Unmarshal(c, &head) != nil || head.ResourceType != "OperationOutcome" || head.ID != OutcomeID {
			continue
		}
		oo, err := fhir.UnmarshalOperationOutcome(c)
		if err != nil {
			return nil, err
		}
		return &oo, nil
	}
	return nil, nil
}

// localReferences checks that every local reference ("#id") in an
// AuditEvent's JSON names a contained resource, and that every contained
// resource is referred to (R4 dom-3).
func localReferences(data []byte) error {
	var raw struct {
		Contained []struct {
			ID string `json:"id"`
		} `json:"contained"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFHIR, err)
	}
	ids := map[string]bool{}
	for i, c := range raw.Contained {
		if c.ID == "" {
			return fmt.Errorf("%w: contained[%d] has no id", ErrInvalidFHIR, i)
		}
		ids[c.ID] = false
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if k == "contained" {
					continue
				}
				if s, ok := x.(string); ok && k == "reference" && strings.HasPrefix(s, "#") {
					if _, ok := ids[s[1:]]; !ok {
						return fmt.Errorf("%w: reference %q names no contained resource", ErrInvalidFHIR, s)
					}
					ids[s[1:]] = true
				}
				if err := walk(x); err != nil {
					return err
				}
			}
		case []any:
			for _, x := range t {
				if err := walk(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFHIR, err)
	}
	if err := walk(doc); err != nil {
		return err
	}
	for id, used := range ids {
		if !used {
			return fmt.Errorf("%w: contained resource %q is not referred to (dom-3)", ErrInvalidFHIR, id)
		}
	}
	return nil
}

// EventFromFHIR maps an AuditEvent made by ToFHIR back to the Event it
// was made from: EventFromFHIR(ToFHIR(e)) equals e for an event as a
// sink stores it (Normalize), written or not. An AuditEvent from
// elsewhere is read as far as it goes. The result is validated; an
// AuditEvent that yields no valid event gives an error matching
// ErrInvalidFHIR (and ErrInvalidEvent for what Validate finds).
func EventFromFHIR(a fhir.AuditEvent) (Event, error) {
	var e Event
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidFHIR}, args...)...))
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	ext := map[string][]fhir.Extension{}
	for _, x := range a.Extension {
		ext[x.Url] = append(ext[x.Url], x)
	}
	extString := func(u string) string {
		for _, x := range ext[u] {
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

	typeCode := str(a.Type.Code)
	decision := str(a.Type.System) == systemDICOM && typeCode == "110113"
	if decision {
		e.Kind = KindDecision
		e.Action = Action(extString(ExtensionDecidedAction))
	} else {
		e.Action = actionFromFHIR(a)
	}
	e.Service = Service(extString(ExtensionService))

	// Times.
	if a.Period != nil && a.Period.Start != nil {
		t, err := time.Parse(time.RFC3339Nano, *a.Period.Start)
		if err != nil {
			bad("period.start %q is not an instant", *a.Period.Start)
		}
		e.Time = t.UTC()
	}
	rec, err := time.Parse(time.RFC3339Nano, a.Recorded)
	if err != nil {
		bad("recorded %q is not an instant", a.Recorded)
	}
	if e.Time.IsZero() {
		e.Time = rec.UTC()
	}
	if s := extString(ExtensionSequence); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			bad("sequence %q is not a number", s)
		}
		e.Seq = n
	}
	if e.Seq != 0 || !rec.Equal(e.Time) {
		e.Recorded = rec.UTC()
	}

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
	e.Reason = str(a.OutcomeDesc)
	for _, pe := range a.PurposeOfEvent {
		for _, c := range pe.Coding {
			if str(c.System) == shcrkit.ActReasonSystem {
				if p, err := shcrkit.ParsePurpose(str(c.Code)); err == nil {
					e.Purpose = p
				}
			}
		}
	}

	// Extensions.
	e.CorrelationID = extString(ExtensionCorrelationID)
	if s := extString(ExtensionRelationship); s != "" {
		k, err := shcrkit.ParseRelationshipKind(s)
		if err != nil {
			bad("relationship %q: %v", s, err)
		}
		e.Relationship = k
	}
	e.RelationshipEvidence = extString(ExtensionRelationshipEvidence)
	e.RelationshipVerification = extString(ExtensionRelationshipVerification)
	e.AdHocSharing = extString(ExtensionAdHocSharing)
	e.ErrorCode = extString(ExtensionErrorCode)
	e.Policy = extString(ExtensionPolicy)
	e.UserFamily = extString(ExtensionUserFamily)
	e.PatientFamily = extString(ExtensionPatientFamily)
	e.Requester.RoleCode = extString(ExtensionRoleCode)
	for _, x := range ext[ExtensionActivity] {
		e.Requester.Activities = append(e.Requester.Activities, str(x.ValueCode))
	}
	for _, x := range ext[ExtensionAssuranceLevel] {
		if x.ValueInteger != nil {
			e.Requester.AssuranceLevel = *x.ValueInteger
		}
	}
	e.Requester.System.Name = extString(ExtensionSystemName)
	e.Requester.System.Version = extString(ExtensionSystemVersion)
	if s := extString(ExtensionInvestigation); s != "" {
		var inv Investigation
		if err := json.Unmarshal([]byte(s), &inv); err != nil {
			bad("investigation does not decode: %v", err)
		} else {
			e.Investigation = &inv
		}
	}
	if id := extString(ExtensionDecisionID); id != "" {
		e.DecisionID = strings.TrimPrefix(id, "urn:uuid:")
	}
	for _, x := range ext[ExtensionDecisionRecord] {
		if x.ValueReference != nil {
			e.Resource, e.Custodian = resourceFromReference(*x.ValueReference, "")
		}
	}
	if a.Source.Site != nil {
		e.Requester.Organisation = shcrkit.ODSCode(*a.Source.Site)
	}
	if id := a.Source.Observer.Identifier; id != nil && str(id.System) == systemASID {
		e.Requester.System.ASID = str(id.Value)
	}

	// Agents.
	for _, ag := range a.Agent {
		system, code := agentType(ag)
		switch {
		case system == systemParticipation && code == "IRCP":
			if ag.Who != nil && ag.Who.Identifier != nil {
				e.Requester.UserID = str(ag.Who.Identifier.Value)
			}
			e.Requester.Name = str(ag.Name)
			e.Requester.RoleProfileID = str(ag.AltId)
			for _, r := range ag.Role {
				e.Requester.RoleName = str(r.Text)
				for _, c := range r.Coding {
					if str(c.System) == systemSDSRoleProfileID {
						e.Requester.RoleProfileID = str(c.Code)
					}
				}
			}
			if len(ag.Policy) > 0 && !decision {
				e.Rule = ag.Policy[0]
			}
			readPurposeOfUse(&e, ag.PurposeOfUse)
		case system == systemRoleClass && code == "PROV":
			if ag.Who != nil {
				if ag.Who.Identifier != nil {
					e.Requester.Organisation = shcrkit.ODSCode(str(ag.Who.Identifier.Value))
				}
				e.Requester.OrganisationName = str(ag.Who.Display)
			}
			if ag.Requestor {
				readPurposeOfUse(&e, ag.PurposeOfUse)
			}
		case system == systemParticipation && code == "RESP":
			o := &Authority{Name: str(ag.Name), RoleProfileID: str(ag.AltId)}
			if ag.Who != nil && ag.Who.Identifier != nil {
				o.UserID = str(ag.Who.Identifier.Value)
			}
			o.RoleCode = extString(ExtensionOnBehalfOfRoleCode)
			o.Organisation = shcrkit.ODSCode(extString(ExtensionOnBehalfOfOrganisation))
			e.OnBehalfOf = o
		case system == systemSecurityRole && code == "authserver":
			if ag.Who != nil && ag.Who.Identifier != nil && strings.HasPrefix(str(ag.Who.Identifier.System), PolicyRuleSystem) {
				p, err := url.PathUnescape(strings.TrimPrefix(str(ag.Who.Identifier.System), PolicyRuleSystem))
				if err != nil {
					bad("authorizer policy does not unescape")
				}
				e.Policy, e.Rule = p, str(ag.Who.Identifier.Value)
			} else if ag.Who != nil {
				e.Policy = strings.TrimSpace(strings.TrimPrefix(str(ag.Who.Display), "access policy"))
			}
		case system == systemDICOM && (code == "110150" || code == "110152" || code == "110153"):
			client := code == "110150" ||
				(code == "110152") == (e.Action == ActionRead || e.Action == ActionDisclose)
			if client {
				if ag.Network != nil {
					e.ClientAddress = str(ag.Network.Address)
				}
				continue
			}
			for _, x := range ag.Extension {
				if x.Url == ExtensionEndpoint && x.ValueUri != nil {
					e.Endpoint = *x.ValueUri
				}
			}
			if ag.Network != nil {
				if ag.Network.Type != nil && *ag.Network.Type == fhir.AuditEventAgentNetworkType5 {
					e.Endpoint = str(ag.Network.Address)
				} else {
					e.ServerAddress = str(ag.Network.Address)
				}
			}
			if ag.Who != nil && ag.Who.Identifier != nil && str(ag.Who.Identifier.System) == shcrkit.ODSSystem {
				e.Custodian = shcrkit.ODSCode(str(ag.Who.Identifier.Value))
			}
		}
	}

	// Entities.
	for _, en := range a.Entity {
		var tsys, tcode, rcode string
		if en.Type != nil {
			tsys, tcode = str(en.Type.System), str(en.Type.Code)
		}
		if en.Role != nil {
			rcode = str(en.Role.Code)
		}
		switch {
		case tsys == systemEntityType && tcode == "1" && rcode == "1":
			if en.What != nil && en.What.Identifier != nil {
				e.Patient = shcrkit.NHSNumber(str(en.What.Identifier.Value))
			}
			if c := shcrkit.ConfidentialityOf(en.SecurityLabel...); c.Restricted() {
				e.Confidentiality = c
			}
		case tsys == systemEntityType && tcode == "2" && rcode == "24":
			cleaned := str(en.Description)
			typ, q, _ := strings.Cut(cleaned, "?")
			if e.Resource == "" {
				e.Resource = typ
			}
			e.Query = q
			if en.Query != nil {
				raw, err := base64.StdEncoding.DecodeString(*en.Query)
				if err != nil {
					bad("entity query is not base64")
				}
				if string(raw) != cleaned {
					e.Request = string(raw)
				}
			}
		case tsys == systemEntityType && tcode == "2":
			if en.What != nil {
				e.Resource, _ = resourceFromReference(*en.What, e.Endpoint)
			}
			if c := shcrkit.ConfidentialityOf(en.SecurityLabel...); c.Restricted() {
				e.Confidentiality = c
			}
		case tsys == systemBALPEntityType && tcode == "XrequestId":
			if en.What != nil && en.What.Identifier != nil {
				e.RequestID = str(en.What.Identifier.Value)
			}
		case tsys == systemEntityType && tcode == "4" && rcode == "13":
			if en.What != nil && en.What.Identifier != nil {
				e.DecisionID = strings.TrimPrefix(str(en.What.Identifier.Value), "urn:uuid:")
			}
		}
	}
	if e.Patient != "" {
		e.Query = RedactQuery(e.Query, e.Patient)
		e.Request = RedactQuery(e.Request, e.Patient)
	}
	if err := e.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidFHIR, err))
	}
	if err := errors.Join(errs...); err != nil {
		return Event{}, err
	}
	return e, nil
}

func readPurposeOfUse(e *Event, pou []fhir.CodeableConcept) {
	for _, cc := range pou {
		if cc.Text != nil {
			e.BreakGlassReason = *cc.Text
		}
	}
}

func agentType(ag fhir.AuditEventAgent) (system, code string) {
	if ag.Type == nil || len(ag.Type.Coding) == 0 {
		return "", ""
	}
	c := ag.Type.Coding[0]
	if c.System != nil {
		system = *c.System
	}
	if c.Code != nil {
		code = *c.Code
	}
	return system, code
}

// resourceFromReference is the inverse of dataReference: the relative
// "Type/id" and, for a business identifier, the custodian.
func resourceFromReference(r fhir.Reference, endpoint string) (string, shcrkit.ODSCode) {
	typ := ""
	if r.Type != nil {
		typ = *r.Type
	}
	if id := r.Identifier; id != nil && id.System != nil && *id.System == PointerIDSystem && id.Value != nil {
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

func actionFromFHIR(a fhir.AuditEvent) Action {
	for _, s := range a.Subtype {
		if s.System != nil && *s.System == systemLifecycle && s.Code != nil && *s.Code == "disclose" {
			return ActionDisclose
		}
	}
	for _, s := range a.Subtype {
		if s.System == nil || *s.System != systemRestful || s.Code == nil {
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
