package nrls

import (
	"strings"

	"github.com/shcrkit/shcrkit/internal/codesystem"
)

// Concept is one coded value (SNOMED CT unless said otherwise): a code and
// its display.
type Concept struct {
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Token returns the search token "http://snomed.info/sct|<code>".
func (c Concept) Token() string { return codesystem.SNOMED + "|" + c.Code }

// RecordType is a record type (DocumentReference.type) the NRL knows: its
// SNOMED code and display, and the category (DocumentReference.category)
// every pointer of the type must carry.
type RecordType struct {
	Concept
	Category Concept
	// also lists other displays the service's own documents use for the
	// same code ("Advance care plan" beside "Advanced care plan").
	also []string
}

// displayMatches reports whether d is a display the service accepts for
// the type.
func (t RecordType) displayMatches(d string) bool {
	if d == t.Display {
		return true
	}
	for _, a := range t.also {
		if d == a {
			return true
		}
	}
	return false
}

// Record categories (DocumentReference.category), for use with
// WithCategories.
var (
	CategoryCarePlan                = Concept{"734163000", "Care plan"}
	CategoryObservations            = Concept{"1102421000000108", "Observations"}
	CategoryClinicalNote            = Concept{"823651000000106", "Clinical note"}
	CategoryDiagnosticStudiesReport = Concept{"721981007", "Diagnostic studies report"}
	CategoryDiagnosticProcedure     = Concept{"103693007", "Diagnostic procedure"}
	CategoryRecordArtifact          = Concept{"419891008", "Record artifact"}
	CategoryRecordHeadings          = Concept{"716931000000107", "Record headings"}
	CategoryClinicalDocument        = Concept{"423876004", "Clinical document"}
)

// SNOMED codes of the record types, for use with WithTypes and
// PointerSpec.Type.
const (
	TypeMentalHealthCrisisPlan           = "736253002"
	TypeEmergencyHealthCarePlan          = "887701000000100"
	TypeEndOfLifeCareCoordinationSummary = "861421000000109"
	TypeRespectForm                      = "1382601000000107"
	TypeContingencyPlan                  = "325691000000100"
	TypeEndOfLifeCarePlan                = "736373009"
	TypeLloydGeorgeRecordFolder          = "16521000000101"
	TypeAdvanceCarePlan                  = "736366004"
	TypeTreatmentEscalationPlan          = "735324008"
	TypePersonalisedCareAndSupportPlan   = "2181441000000107"
	TypeNEWS2Chart                       = "1363501000000100"
	TypeSummaryRecord                    = "824321000000109"
	TypeAppointment                      = "749001000000101"
	TypeClinicalSummary                  = "887181000000106"
	TypeAboutMe                          = "1515851000000101"
)

// recordTypes are the SNOMED record types the NRL accepts, in the order
// the service documents them.
var recordTypes = []RecordType{
	{Concept: Concept{TypeMentalHealthCrisisPlan, "Mental health crisis plan"}, Category: CategoryCarePlan},
	{Concept: Concept{TypeEmergencyHealthCarePlan, "Emergency health care plan"}, Category: CategoryCarePlan},
	{Concept: Concept{TypeEndOfLifeCareCoordinationSummary, "End of life care coordination summary"}, Category: CategoryCarePlan},
	{Concept: Concept{TypeRespectForm, "ReSPECT (Recommended Summary Plan for Emergency Care and Treatment) form"},
		Category: CategoryCarePlan, also: []string{"ReSPECT form"}},
	{Concept: Concept{TypeContingencyPlan, "Contingency plan"}, Category: CategoryCarePlan},
	{Concept: Concept{TypeEndOfLifeCarePlan, "End of life care plan"}, Category: CategoryCarePlan},
	{Concept: Concept{TypeLloydGeorgeRecordFolder, "Lloyd George record folder"}, Category: CategoryCarePlan},
	{Concept: Concept{TypeAdvanceCarePlan, "Advanced care plan"}, Category: CategoryCarePlan,
		also: []string{"Advance care plan"}},
	{Concept: Concept{TypeTreatmentEscalationPlan, "Treatment escalation plan"}, Category: CategoryCarePlan},
	{Concept: Concept{TypePersonalisedCareAndSupportPlan, "Personalised Care and Support Plan"}, Category: CategoryCarePlan},
	{Concept: Concept{TypeNEWS2Chart, "Royal College of Physicians NEWS2 (National Early Warning Score 2) chart"},
		Category: CategoryObservations, also: []string{"NEWS2 chart"}},
	{Concept: Concept{TypeSummaryRecord, "Summary record"}, Category: CategoryClinicalNote},
	{Concept: Concept{TypeAppointment, "Appointment"}, Category: CategoryRecordArtifact},
	{Concept: Concept{TypeClinicalSummary, "Clinical summary"}, Category: CategoryRecordHeadings},
	{Concept: Concept{TypeAboutMe, "About me"}, Category: CategoryClinicalDocument},
}

// categories are the record categories, in the order the service
// documents them.
var categories = []Concept{
	CategoryCarePlan, CategoryObservations, CategoryClinicalNote, CategoryDiagnosticStudiesReport,
	CategoryDiagnosticProcedure, CategoryRecordArtifact, CategoryRecordHeadings, CategoryClinicalDocument,
}

// typeIndex finds a record type by code.
var typeIndex = func() map[string]int {
	m := make(map[string]int, len(recordTypes))
	for i, t := range recordTypes {
		m[t.Code] = i
	}
	return m
}()

// LookupType returns the record type with this SNOMED code. It also
// accepts the search token form "http://snomed.info/sct|<code>".
func LookupType(code string) (RecordType, bool) {
	i, ok := typeIndex[stripSNOMED(code)]
	if !ok {
		return RecordType{}, false
	}
	return recordTypes[i], true
}

// lookupCategory returns the record category with this SNOMED code (or
// token); Categories lists them all.
func lookupCategory(code string) (Concept, bool) {
	code = stripSNOMED(code)
	for _, c := range categories {
		if c.Code == code {
			return c, true
		}
	}
	return Concept{}, false
}

// RecordTypes returns every record type the NRL accepts, in the order the
// service documents them. The slice is a copy.
func RecordTypes() []RecordType { return append([]RecordType(nil), recordTypes...) }

// Categories returns every record category. The slice is a copy.
func Categories() []Concept { return append([]Concept(nil), categories...) }

func stripSNOMED(code string) string {
	code = strings.TrimSpace(code)
	if rest, ok := strings.CutPrefix(code, codesystem.SNOMED+"|"); ok {
		return rest
	}
	return code
}
