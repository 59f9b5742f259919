package audit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/shcrkit/shcrkit/audit/internal/balp"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The IHE BALP pattern for a read of a patient's record, written out by
// hand.
const wantReadJSON = `{
  "resourceType": "AuditEvent",
  "extension": [
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/sequence", "valueString": "12"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/correlation-id", "valueString": "c0ffee00-1234-4abc-8def-001122334455"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/legitimate-relationship", "valueCode": "encounter"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/relationship-evidence", "valueString": "encounter-778899"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/service", "valueCode": "shcr"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/role-code", "valueString": "S8000:G8000:R8000"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/activity", "valueCode": "B0360"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/activity", "valueCode": "B0380"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/system-name", "valueString": "Riverside EPR"},
    {"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/system-version", "valueString": "4.2"}
  ],
  "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "Restful Operation"},
  "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "read", "display": "read"}],
  "action": "R",
  "period": {"start": "2025-03-03T09:00:00Z"},
  "recorded": "2025-03-03T09:00:01Z",
  "outcome": "0",
  "purposeOfEvent": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT", "display": "treatment"}]}],
  "agent": [
    {
      "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP", "display": "information recipient"}]},
      "role": [{"coding": [
        {"system": "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode", "code": "R8000"},
        {"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "code": "100200300400"}
      ], "text": "Clinical Practitioner Access Role"}],
      "who": {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "555000111222"}, "display": "Dr Ada Lovegood"},
      "altId": "100200300400",
      "name": "Dr Ada Lovegood",
      "requestor": true,
      "policy": ["direct-care-lr"],
      "purposeOfUse": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT", "display": "treatment"}]}]
    },
    {
      "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PROV", "display": "healthcare provider"}]},
      "who": {"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RX1"}, "display": "Riverside Hospital"},
      "requestor": false
    },
    {
      "type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152", "display": "Destination Role ID"}]},
      "who": {"type": "Device", "identifier": {"system": "https://fhir.nhs.uk/Id/nhsSpineASID", "value": "200000000123"}, "display": "Riverside EPR 4.2"},
      "requestor": false,
      "network": {"address": "epr-app-01.riverside.test", "type": "1"}
    },
    {
      "extension": [{"url": "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/endpoint", "valueUri": "https://shcr.example.test/fhir/R4"}],
      "type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110153", "display": "Source Role ID"}]},
      "who": {"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y99999"}, "display": "shared care record"},
      "requestor": false,
      "network": {"address": "10.20.30.40", "type": "2"}
    }
  ],
  "source": {
    "site": "RX1",
    "observer": {"type": "Device", "identifier": {"system": "https://fhir.nhs.uk/Id/nhsSpineASID", "value": "200000000123"}, "display": "Riverside EPR 4.2"},
    "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}]
  },
  "entity": [
    {
      "what": {"type": "Patient", "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}},
      "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
      "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}
    },
    {
      "what": {"type": "DocumentReference", "identifier": {
        "system": "https://github.com/shcrkit/shcrkit/audit/NamingSystem/nrl-pointer-id", "value": "Y99999-care-plan-1",
        "assigner": {"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y99999"}}}},
      "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
      "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4", "display": "Domain Resource"},
      "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"}]
    },
    {
      "what": {"identifier": {"value": "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f"}},
      "type": {"system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "code": "XrequestId", "display": "transport specific unique identifier where http X-Request-Id is used"}
    },
    {
      "what": {"identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:5d1c3a0e-7b2f-4c1d-9e8f-0a1b2c3d4e5f"}},
      "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "4", "display": "Other"},
      "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "13", "display": "Security Resource"},
      "description": "the access decision that authorised this request"
    }
  ]
}`

func TestToFHIRRead(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	e.Seq, e.Recorded = 12, t0.Add(time.Second)
	e.ClientAddress, e.ServerAddress = "epr-app-01.riverside.test", "10.20.30.40"
	e.DecisionID, e.Confidentiality = "5d1c3a0e-7b2f-4c1d-9e8f-0a1b2c3d4e5f", shcrkit.ConfidentialityRestricted
	got, err := json.Marshal(ToFHIR(e))
	require.NoError(t, err)
	assert.JSONEq(t, wantReadJSON, string(got))
}

func TestToFHIRVariants(t *testing.T) {
	code := func(c *fhir.Coding) string {
		if c == nil || c.Code == nil {
			return ""
		}
		return *c.Code
	}
	agentType := func(a fhir.AuditEventAgent) string { return *a.Type.Coding[0].Code }
	tests := []struct {
		name  string
		event func() Event
		check func(t *testing.T, a fhir.AuditEvent)
	}{
		{"search: action E, client is the source, base64 query with the NHS number", func() Event {
			return searchEvent(t0, nurse(), patientB)
		}, func(t *testing.T, a fhir.AuditEvent) {
			assert.Equal(t, fhir.AuditEventActionE, *a.Action)
			assert.Equal(t, "search", code(&a.Subtype[0]))
			assert.Equal(t, "110153", agentType(a.Agent[2]), "client: Source Role ID")
			assert.Equal(t, "110152", agentType(a.Agent[3]), "server: Destination Role ID")
			var q *fhir.AuditEventEntity
			for i := range a.Entity {
				if code(a.Entity[i].Role) == "24" {
					q = &a.Entity[i]
				}
			}
			require.NotNil(t, q, "query entity")
			raw, err := base64.StdEncoding.DecodeString(*q.Query)
			require.NoError(t, err)
			assert.Equal(t, "DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", string(raw))
			assert.Equal(t, "2", code(q.Type))
		}},
		{"refused: outcome 4 with the reason and error code", func() Event {
			e := readEvent(t0, nurse(), patientA)
			e.Outcome, e.Reason, e.ErrorCode = OutcomeRefused, "no legitimate relationship", "NO_LR"
			return e
		}, func(t *testing.T, a fhir.AuditEvent) {
			assert.Equal(t, fhir.AuditEventOutcome4, *a.Outcome)
			assert.Equal(t, "no legitimate relationship", *a.OutcomeDesc)
			e := readEvent(t0, nurse(), patientA)
			e.Outcome, e.Reason, e.ErrorCode = OutcomeRefused, "no legitimate relationship in 9434765919's record", "NO_LR"
			oo := outcomeResource(e)
			require.NotNil(t, oo)
			assert.Equal(t, fhir.IssueTypeForbidden, oo.Issue[0].Code)
			assert.Equal(t, "NO_LR", *oo.Issue[0].Details.Coding[0].Code)
			assert.Equal(t, "no legitimate relationship in 943****919's record", *oo.Issue[0].Details.Text, "the reason redacted")
			assert.Contains(t, a.Extension, fhir.Extension{Url: balp.ExtensionErrorCode, ValueCode: balp.Ptr("NO_LR")})
		}},
		{"failed: outcome 8", func() Event {
			e := readEvent(t0, nurse(), patientA)
			e.Outcome, e.ErrorCode = OutcomeFailed, "503"
			return e
		}, func(t *testing.T, a fhir.AuditEvent) {
			assert.Equal(t, fhir.AuditEventOutcome8, *a.Outcome)
		}},
		{"disclosure: DICOM Export with the lifecycle subtype", func() Event {
			e := readEvent(t0, clinician(), patientA)
			e.Action = ActionDisclose
			return e
		}, func(t *testing.T, a fhir.AuditEvent) {
			assert.Equal(t, "110106", *a.Type.Code)
			assert.Equal(t, "disclose", code(&a.Subtype[0]))
			assert.Equal(t, fhir.AuditEventActionR, *a.Action)
		}},
		{"update: action U, the client is the source", func() Event {
			e := readEvent(t0, clinician(), patientA)
			e.Action = ActionUpdate
			return e
		}, func(t *testing.T, a fhir.AuditEvent) {
			assert.Equal(t, fhir.AuditEventActionU, *a.Action)
			assert.Equal(t, "update", code(&a.Subtype[0]))
			assert.Equal(t, "110153", agentType(a.Agent[2]))
		}},
		{"break glass on another's authority", func() Event {
			e := readEvent(t0, clinician(), patientA)
			e.Purpose, e.BreakGlassReason = shcrkit.PurposeBreakGlass, "unconscious in ED"
			e.OnBehalfOf = &Authority{UserID: "555000777888", Name: "Dr Sup", RoleCode: "S8000:G8000:R8000"}
			return e
		}, func(t *testing.T, a fhir.AuditEvent) {
			pou := a.Agent[0].PurposeOfUse[0]
			assert.Equal(t, "BTG", code(&pou.Coding[0]))
			assert.Equal(t, "unconscious in ED", *pou.Text)
			resp := a.Agent[2]
			assert.Equal(t, "RESP", agentType(resp))
			assert.Equal(t, "555000777888", *resp.Who.Identifier.Value)
			assert.False(t, resp.Requestor)
		}},
		{"no user: the organisation is the requestor", func() Event {
			e := searchEvent(t0, clinician(), "")
			e.Requester.UserID, e.Query = "", "family=Smith"
			return e
		}, func(t *testing.T, a fhir.AuditEvent) {
			assert.Equal(t, "PROV", agentType(a.Agent[0]))
			assert.True(t, a.Agent[0].Requestor)
			for _, en := range a.Entity {
				assert.NotEqual(t, "1", code(en.Role), "no patient entity without a patient")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.event()
			require.NoError(t, e.Validate())
			a := ToFHIR(e)
			require.NoError(t, balp.Validate(a))
			tt.check(t, a)
		})
	}
}

// Every mapped event survives JSON through the samply model unchanged,
// through the same path that reads AuditEvents from elsewhere, and reads
// back as the event it was made from.
func TestToFHIRRoundTrip(t *testing.T) {
	for _, e := range roundTripEvents() {
		a := ToFHIR(e)
		data, err := MarshalFHIR(e)
		require.NoError(t, err)
		back, err := ParseFHIR(data)
		require.NoError(t, err, string(data))
		assert.Equal(t, a, back)
		again, err := json.Marshal(back)
		require.NoError(t, err)
		plain, err := json.Marshal(a)
		require.NoError(t, err)
		assert.JSONEq(t, string(plain), string(again))

		got, err := eventFromFHIR(a)
		require.NoError(t, err, string(data))
		assert.Equal(t, e, got, "eventFromFHIR(ToFHIR(e))")
		got, err = DecodeFHIR(data)
		require.NoError(t, err)
		assert.Equal(t, e, got, "DecodeFHIR(MarshalFHIR(e))")
	}
}

// Every field of Event, and of the types it holds, is set in one of the
// round-trip events: a field added to Event without a FHIR mapping fails
// the round trip instead of being dropped unnoticed.
func TestRoundTripEventsSetEveryField(t *testing.T) {
	set := map[string]bool{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name := prefix + f.Name
			if !v.Field(i).IsZero() {
				set[name] = true
			}
			walk(name+".", v.Field(i))
		}
	}
	for _, e := range roundTripEvents() {
		walk("", reflect.ValueOf(e))
	}
	var all func(prefix string, t reflect.Type)
	var missing []string
	all = func(prefix string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !set[prefix+f.Name] {
				missing = append(missing, prefix+f.Name)
			}
			all(prefix+f.Name+".", f.Type)
		}
	}
	all("", reflect.TypeOf(Event{}))
	assert.Empty(t, missing, "fields no round-trip event sets")
}

// roundTripEvents covers every kind, action and outcome, with and without
// the optional parts, as a sink stores them.
func roundTripEvents() []Event {
	full := func(e Event) Event {
		e.Seq, e.Recorded = 41, t0.Add(2*time.Second)
		e.ClientAddress, e.ServerAddress = "epr-app-01.riverside.test", "2001:db8::7"
		e.UserFamily, e.PatientFamily = "Lovegood", "Smith"
		e.Requester.AssuranceLevel = 3
		e.Policy = "Northern ShCR policy"
		return e
	}
	read := full(readEvent(t0, clinician(), patientA))
	read.DecisionID, read.Confidentiality = "5d1c3a0e-7b2f-4c1d-9e8f-0a1b2c3d4e5f", shcrkit.ConfidentialityVeryRestricted
	search := full(searchEvent(t0, nurse(), patientB))
	search.Request = "POST /record-locator/consumer/FHIR/R4/DocumentReference/_search\n\nsubject%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C" + QueryPatientPlaceholder
	pdsRead := readEvent(t0, clinician(), patientA)
	pdsRead.Service, pdsRead.Custodian, pdsRead.Resource = ServicePDS, "", "Patient/"+string(patientA)
	pdsRead.Endpoint = "https://pds.example.test/personal-demographics/FHIR/R4"
	decision := full(readEvent(t0, clinician(), patientA))
	decision.Kind, decision.RequestID, decision.DecisionID = KindDecision, "", "5d1c3a0e-7b2f-4c1d-9e8f-0a1b2c3d4e5f"
	decision.Endpoint, decision.ServerAddress = "", ""
	decision.Outcome, decision.ErrorCode, decision.Reason = OutcomeRefused, "ACCESS_DENIED", "refused: very restricted record"
	decision.RelationshipVerification = "verified by encounter: Encounter/ed-1"
	decision.AdHocSharing = "Dr Ada Lovegood shared the care plan with the ambulance crew: risk to life; ICO code, urgent situations"
	boundary := decision
	boundary.Resource, boundary.Custodian, boundary.Service, boundary.Action = "", "", ServiceNRL, ActionSearch
	boundary.Outcome, boundary.ErrorCode, boundary.Reason = OutcomeSuccess, "", "allowed: registered"
	breakGlass := full(readEvent(t0, clinician(), patientC))
	breakGlass.Purpose, breakGlass.BreakGlassReason = shcrkit.PurposeBreakGlass, "unconscious in ED"
	breakGlass.Relationship = shcrkit.RelationshipEmergency
	breakGlass.OnBehalfOf = &Authority{UserID: "555000777888", Name: "Dr Sup", RoleProfileID: "100200300999", RoleCode: "S8000:G8000:R8000", Organisation: "RX1"}
	failed := full(readEvent(t0, nurse(), patientA))
	failed.Outcome, failed.ErrorCode, failed.Reason = OutcomeFailed, "503", "failed: unavailable"
	events := []Event{read, search, pdsRead, decision, boundary, breakGlass, failed}
	for _, a := range []Action{ActionCreate, ActionUpdate, ActionDelete, ActionDisclose} {
		e := readEvent(t0, clinician(), patientC)
		e.Action, e.Outcome, e.Reason = a, OutcomeRefused, "policy"
		e.OnBehalfOf = &Authority{UserID: "555000777888"}
		events = append(events, e)
	}
	noUser := searchEvent(t0, clinician(), "")
	noUser.Requester.UserID, noUser.Query = "", "family=Smith"
	noUser.Requester.Name, noUser.Requester.RoleProfileID, noUser.Requester.RoleCode, noUser.Requester.RoleName = "", "", "", ""
	noUser.Requester.Activities = nil
	events = append(events, noUser)
	closed := Event{Time: t0, Requester: officer(), Action: ActionUpdate, Service: ServiceAudit, Resource: "Case/CASE-1",
		Patient: patientA, Outcome: OutcomeSuccess,
		Investigation: &Investigation{Case: "CASE-1", Step: "closed", Finding: "referred", Note: "to the <Caldicott> Guardian"}}
	opened := closed
	opened.Investigation = &Investigation{Case: "CASE-1", Step: "opened", Concerns: []uint64{3, 18446744073709551615}}
	events = append(events, closed, opened)
	for i, e := range events {
		n, err := e.Normalize(t0)
		if err != nil {
			panic(fmt.Sprintf("event %d: %v", i, err))
		}
		n.Seq, n.Recorded = e.Seq, e.Recorded
		events[i] = n
	}
	return events
}

func TestValidateFHIR(t *testing.T) {
	good := ToFHIR(readEvent(t0, clinician(), patientA))
	tests := []struct {
		name   string
		change func(*fhir.AuditEvent)
		want   string
	}{
		{"missing type", func(a *fhir.AuditEvent) { a.Type = fhir.Coding{} }, "type.code"},
		{"missing recorded", func(a *fhir.AuditEvent) { a.Recorded = "" }, "recorded is required"},
		{"recorded not an instant", func(a *fhir.AuditEvent) { a.Recorded = "yesterday" }, "not an instant"},
		{"no agent", func(a *fhir.AuditEvent) { a.Agent = nil }, "agent"},
		{"empty observer", func(a *fhir.AuditEvent) { a.Source.Observer = fhir.Reference{} }, "source.observer"},
		{"name and query", func(a *fhir.AuditEvent) { a.Entity[0].Name, a.Entity[0].Query = balp.Ptr("x"), balp.Ptr("eA==") }, "sev-1"},
		{"detail without type", func(a *fhir.AuditEvent) {
			a.Entity[0].Detail = []fhir.AuditEventEntityDetail{{ValueString: "x"}}
		}, "detail[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ToFHIR(readEvent(t0, clinician(), patientA))
			tt.change(&a)
			err := balp.Validate(a)
			assert.ErrorIs(t, err, ErrInvalidFHIR)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	require.NoError(t, balp.Validate(good))

	for name, data := range map[string]string{
		"not JSON":           "{",
		"wrong resourceType": `{"resourceType":"Patient"}`,
		"bad action code":    `{"resourceType":"AuditEvent","action":"Z"}`,
		"missing elements":   `{"resourceType":"AuditEvent"}`,
		"agent without requestor": `{"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2025-03-03T09:00:00Z",` +
			`"agent":[{"who":{"display":"x"}}],"source":{"observer":{"display":"y"}}}`,
	} {
		_, err := ParseFHIR([]byte(data))
		assert.ErrorIs(t, err, ErrInvalidFHIR, name)
	}
}

// The HL7 AuditEvent examples decode and validate through ParseFHIR,
// the same code path as our own output.
func TestConformanceAuditEvents(t *testing.T) {
	dir := conformanceDir(t, "audit")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			a, err := ParseFHIR(data)
			require.NoError(t, err)
			assert.NotEmpty(t, a.Agent)
			assert.NotEmpty(t, a.Recorded)
		})
	}
}
