package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventValidate(t *testing.T) {
	ok := readEvent(t0, clinician(), patientA)
	tests := []struct {
		name   string
		change func(*Event)
		want   string // substring of the error, "" for valid
	}{
		{"valid read", func(*Event) {}, ""},
		{"valid search", func(e *Event) { *e = searchEvent(t0, nurse(), patientB) }, ""},
		{"application-restricted call without a user", func(e *Event) { e.Requester.UserID = "" }, ""},
		{"unknown action", func(e *Event) { e.Action = "peek" }, "unknown action"},
		{"unknown service", func(e *Event) { e.Service = "fax" }, "unknown service"},
		{"missing outcome", func(e *Event) { e.Outcome = "" }, "unknown outcome"},
		{"missing time", func(e *Event) { e.Time = time.Time{} }, "time is required"},
		{"no user and no system", func(e *Event) { e.Requester.UserID, e.Requester.System.Name = "", "" }, "user ID or a calling system"},
		{"no organisation", func(e *Event) { e.Requester.Organisation = "" }, "organisation is required"},
		{"bad organisation", func(e *Event) { e.Requester.Organisation = "rx-1" }, "not a valid ODS code"},
		{"bad patient", func(e *Event) { e.Patient = "9434765918" }, "not a valid NHS number"},
		{"bad custodian", func(e *Event) { e.Custodian = "x" }, "custodian"},
		{"bad purpose", func(e *Event) { e.Purpose = 9 }, "unknown purpose"},
		{"bad relationship", func(e *Event) { e.Relationship = shcrkit.RelationshipKind(99) }, "unknown relationship"},
		{"authority without user", func(e *Event) { e.OnBehalfOf = &Authority{Name: "Dr B"} }, "onBehalfOf needs a user ID"},
		{"control character", func(e *Event) { e.Reason = "line\nbreak" }, "control characters"},
		{"invalid UTF-8", func(e *Event) { e.Rule = "\xff" }, "invalid UTF-8"},
		{"over-long field", func(e *Event) { e.Reason = strings.Repeat("x", maxField+1) }, "longer than"},
		{"NHS number in query", func(e *Event) { e.Query = "identifier=943 476 5919" }, "names an NHS number"},
		{"other patient's number in query", func(e *Event) { e.Query = "subject=9000000009" }, "names an NHS number"},
		{"other patient's number after an encoded bar", func(e *Event) {
			e.Query = "subject%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9000000009"
		}, "names an NHS number"},
		{"other patient's number spaced with +", func(e *Event) { e.Query = "identifier=900+000+0009" }, "names an NHS number"},
		{"other patient's number spaced with %20", func(e *Event) { e.Query = "identifier=900%20000%200009" }, "names an NHS number"},
		{"time past year 9999", func(e *Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside the years"},
		{"time before year 0", func(e *Event) { e.Time = time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside the years"},
		{"time beyond Unix nanoseconds", func(e *Event) { e.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside the years"},
		{"placeholder without patient", func(e *Event) { e.Patient = ""; e.Query = "subject=" + QueryPatientPlaceholder }, "no patient"},
		{"query with base URL", func(e *Event) { e.Query = "https://x.test/Patient?family=Smith" }, "base URL"},
		{"endpoint with query", func(e *Event) { e.Endpoint = "https://x.test/fhir?x=1" }, "endpoint"},
		{"ten digits failing the check are not an NHS number", func(e *Event) { e.Query = "code=1234567890" }, ""},
		{"digits inside an identifier are not an NHS number", func(e *Event) { e.Query = "correlation=c0ffee00-9434765919ab" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok.Clone()
			tt.change(&e)
			err := e.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidEvent)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "9434765919", "errors never carry NHS numbers")
		})
	}
}

func TestEventValidateReportsEveryProblem(t *testing.T) {
	err := Event{}.Validate()
	require.Error(t, err)
	for _, want := range []string{"action", "service", "outcome", "time", "organisation"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestNormalize(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.FixedZone("BST", 3600))
	e := searchEvent(time.Time{}, clinician(), patientA)
	e.Seq, e.Recorded = 42, now
	e.Query = "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&alt=943-476-5919&x=943%20476%205919"
	n, err := e.Normalize(now)
	require.NoError(t, err)
	assert.Zero(t, n.Seq, "the sink assigns seq")
	assert.True(t, n.Recorded.IsZero(), "the sink assigns recorded")
	assert.Equal(t, now.UTC(), n.Time)
	assert.Equal(t, time.UTC, n.Time.Location())
	assert.Equal(t, "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|{patient}&alt={patient}&x={patient}", n.Query)
	assert.Equal(t, "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&alt=9434765919&x=9434765919", n.rawQuery())

	e.Query = "a=94347659190" // part of a longer number: not the patient's
	n, err = e.Normalize(now)
	require.NoError(t, err)
	assert.Equal(t, "a=94347659190", n.Query)

	e.Query = "subject=9000000009"
	_, err = e.Normalize(now)
	assert.ErrorIs(t, err, ErrInvalidEvent, "another patient's number in the query is refused")
}

func TestCloneIsDeep(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	e.OnBehalfOf = &Authority{UserID: "555000777888", Name: "Dr Sup"}
	c := e.Clone()
	c.Requester.Activities[0] = "B9999"
	c.OnBehalfOf.Name = "changed"
	assert.Equal(t, "B0360", e.Requester.Activities[0])
	assert.Equal(t, "Dr Sup", e.OnBehalfOf.Name)
}

func TestResourceParts(t *testing.T) {
	tests := []struct{ resource, typ, id string }{
		{"DocumentReference/RX1-123", "DocumentReference", "RX1-123"},
		{"DocumentReference", "DocumentReference", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		e := Event{Resource: tt.resource}
		assert.Equal(t, tt.typ, e.resourceType())
		assert.Equal(t, tt.id, e.resourceID())
	}
}

func TestEventLogValueMasksPatient(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	e := readEvent(t0, clinician(), patientA)
	e.Resource = "Patient/9434765919"
	logger.Info("x", slog.Any("event", e))
	out := buf.String()
	assert.NotContains(t, out, "9434765919")
	assert.Contains(t, out, "943****919")
	assert.Contains(t, out, "555000111222")
}

// The hand-written record encoding must be exactly what encoding/json
// writes, so that anyone can read a record with an ordinary decoder.
func TestRecordBodyMatchesEncodingJSON(t *testing.T) {
	full := readEvent(time.Date(2025, 3, 1, 9, 15, 0, 123456789, time.UTC), clinician(), patientA)
	full.OnBehalfOf = &Authority{UserID: "555000777888", Name: "Dr Sup", RoleProfileID: "1", RoleCode: "R8000", Organisation: "RX1"}
	full.UserFamily, full.PatientFamily = "Lovegood", "O'Neil"
	full.BreakGlassReason = "unconscious, no relatives"
	full.RelationshipVerification = "verified by registered: GP practice Y12345"
	full.ErrorCode, full.Reason = "ACCESS_DENIED", `"quoted" <tag> & \back, é, `+"\u2028\u2029"
	full.Requester.AssuranceLevel = 3
	full.DecisionID, full.Policy = "5d1c3a0e-7b2f-4c1d-9e8f-0a1b2c3d4e5f", "Northern ShCR policy"
	full.ClientAddress, full.ServerAddress = "epr-app-01.riverside.test", "10.0.0.7"
	full.Confidentiality = shcrkit.ConfidentialityRestricted
	decision := readEvent(t0, clinician(), patientA)
	decision.Kind, decision.RequestID, decision.DecisionID = KindDecision, "", "5d1c3a0e-7b2f-4c1d-9e8f-0a1b2c3d4e5f"
	search := searchEvent(t0, nurse(), patientB)
	search.Request = "POST /FHIR/R4/DocumentReference/_search\n\nsubject%3Aidentifier=x%7C" + QueryPatientPlaceholder
	minimal := Event{Time: t0, Requester: shcrkit.Requester{Organisation: "RX1", System: shcrkit.System{Name: "EPR"}},
		Action: ActionSearch, Service: ServicePDS, Outcome: OutcomeFailed}
	caseStep := Event{Time: t0, Requester: officer(), Action: ActionUpdate, Service: ServiceAudit, Resource: "Case/CASE-1",
		Patient: patientA, Outcome: OutcomeSuccess, Investigation: &Investigation{Case: "CASE-1", Step: "closed", Finding: "referred", Note: "to the <Caldicott> Guardian"}}
	opened := caseStep
	opened.Investigation = &Investigation{Case: "CASE-1", Step: "opened", Concerns: []uint64{3, 18446744073709551615}}
	for name, e := range map[string]Event{"full": full, "minimal": minimal, "search": search, "decision": decision, "case closed": caseStep, "case opened": opened} {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(&e)
			require.NoError(t, err)
			got := appendEventBody(nil, &e)
			assert.Equal(t, string(want), string(got))
			var back Event
			require.NoError(t, json.Unmarshal(got, &back))
			assert.Equal(t, e, back)
		})
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "plain", string(all), "é€😀", "\u2028\u2029", "a\xffb", "<&>", `"\`} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendString(nil, s)), "%q", s)
	}
}

func TestRecordSplice(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	rec := t0.Add(time.Second)
	buf, at := appendEventFrame(nil, 7, recordedString(rec), appendEventBody(nil, &e))
	data := buf[at:]
	seq, ok := recordSeq(data)
	require.True(t, ok)
	assert.Equal(t, uint64(7), seq)
	got, err := decodeRecord(data)
	require.NoError(t, err)
	e.Seq, e.Recorded = 7, rec
	assert.Equal(t, e, got)

	for _, bad := range []string{`{"seq":0,`, `{"seq":07,`, `{"seq":x`, `{"sq":1,`, `{"seq":1`} {
		_, ok := recordSeq([]byte(bad))
		assert.False(t, ok, bad)
	}
}

func TestSentinels(t *testing.T) {
	err := &IntegrityError{Problems: []string{"a", "b"}}
	assert.ErrorIs(t, err, ErrTampered)
	assert.False(t, errors.Is(err, ErrClosed))
	assert.Equal(t, "audit: log integrity check failed: a; b", err.Error())
	var many IntegrityError
	for i := 0; i < 20; i++ {
		many.Problems = append(many.Problems, "p")
	}
	assert.Contains(t, many.Error(), "and more")
}
