package nrls

import "strings"

// Concept is one coded value (SNOMED CT unless said otherwise): a code and
// its display.
type Concept struct {
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// IsZero reports whether c carries no code.
func (c Concept) IsZero() bool { return c.Code == "" }

// Category is a record category (DocumentReference.category): the broad
// class a record type belongs to.
type Category struct {
	Code    string
	Display string
}

// Concept returns the category as a Concept.
func (c Category) Concept() Concept { return Concept(c) }

// Token returns the search token "http://snomed.info/sct|<code>".
func (c Category) Token() string { return SNOMEDSystem + "|" + c.Code }

// RecordType is a record type (DocumentReference.type) the NRL knows, with
// the category every pointer of the type must carry.
type RecordType struct {
	Code     string
	Display  string
	Category Category
	// also lists other displays the service's own documents use for the
	// same code ("Advance care plan" beside "Advanced care plan").
	also []string
}

// Concept returns the type as a Concept.
func (t RecordType) Concept() Concept { return Concept{Code: t.Code, Display: t.Display} }

// Token returns the search token "http://snomed.info/sct|<code>".
func (t RecordType) Token() string { return SNOMEDSystem + "|" + t.Code }

// DisplayMatches reports whether d is a display the service accepts for
// the type.
func (t RecordType) DisplayMatches(d string) bool {
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

// Record categories.
var (
	CategoryCarePlan                = Category{"734163000", "Care plan"}
	CategoryObservations            = Category{"1102421000000108", "Observations"}
	CategoryClinicalNote            = Category{"823651000000106", "Clinical note"}
	CategoryDiagnosticStudiesReport = Category{"721981007", "Diagnostic studies report"}
	CategoryDiagnosticProcedure     = Category{"103693007", "Diagnostic procedure"}
	CategoryRecordArtifact          = Category{"419891008", "Record artifact"}
	CategoryRecordHeadings          = Category{"716931000000107", "Record headings"}
	CategoryClinicalDocument        = Category{"423876004", "Clinical document"}
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

// TypeRegistry is the set of record types and categories the NRL knows.
// Its zero value is empty; use Types. It is immutable and safe for
// concurrent use.
type TypeRegistry struct {
	types      []RecordType
	byCode     map[string]int
	categories []Category
}

// Types is the registry of every SNOMED record type the NRL accepts, each
// with its display and category.
var Types = newRegistry([]RecordType{
	{Code: TypeMentalHealthCrisisPlan, Display: "Mental health crisis plan", Category: CategoryCarePlan},
	{Code: TypeEmergencyHealthCarePlan, Display: "Emergency health care plan", Category: CategoryCarePlan},
	{Code: TypeEndOfLifeCareCoordinationSummary, Display: "End of life care coordination summary", Category: CategoryCarePlan},
	{Code: TypeRespectForm, Display: "ReSPECT (Recommended Summary Plan for Emergency Care and Treatment) form",
		Category: CategoryCarePlan, also: []string{"ReSPECT form"}},
	{Code: TypeContingencyPlan, Display: "Contingency plan", Category: CategoryCarePlan},
	{Code: TypeEndOfLifeCarePlan, Display: "End of life care plan", Category: CategoryCarePlan},
	{Code: TypeLloydGeorgeRecordFolder, Display: "Lloyd George record folder", Category: CategoryCarePlan},
	{Code: TypeAdvanceCarePlan, Display: "Advanced care plan", Category: CategoryCarePlan,
		also: []string{"Advance care plan"}},
	{Code: TypeTreatmentEscalationPlan, Display: "Treatment escalation plan", Category: CategoryCarePlan},
	{Code: TypePersonalisedCareAndSupportPlan, Display: "Personalised Care and Support Plan", Category: CategoryCarePlan},
	{Code: TypeNEWS2Chart, Display: "Royal College of Physicians NEWS2 (National Early Warning Score 2) chart",
		Category: CategoryObservations, also: []string{"NEWS2 chart"}},
	{Code: TypeSummaryRecord, Display: "Summary record", Category: CategoryClinicalNote},
	{Code: TypeAppointment, Display: "Appointment", Category: CategoryRecordArtifact},
	{Code: TypeClinicalSummary, Display: "Clinical summary", Category: CategoryRecordHeadings},
	{Code: TypeAboutMe, Display: "About me", Category: CategoryClinicalDocument},
}, []Category{
	CategoryCarePlan, CategoryObservations, CategoryClinicalNote, CategoryDiagnosticStudiesReport,
	CategoryDiagnosticProcedure, CategoryRecordArtifact, CategoryRecordHeadings, CategoryClinicalDocument,
})

func newRegistry(types []RecordType, cats []Category) TypeRegistry {
	r := TypeRegistry{types: types, byCode: make(map[string]int, len(types)), categories: cats}
	for i, t := range types {
		r.byCode[t.Code] = i
	}
	return r
}

// Lookup returns the record type with this SNOMED code. It also accepts
// the search token form "http://snomed.info/sct|<code>".
func (r TypeRegistry) Lookup(code string) (RecordType, bool) {
	code = stripSNOMED(code)
	i, ok := r.byCode[code]
	if !ok {
		return RecordType{}, false
	}
	return r.types[i], true
}

// CategoryOf returns the category a record type belongs to.
func (r TypeRegistry) CategoryOf(code string) (Category, bool) {
	t, ok := r.Lookup(code)
	return t.Category, ok
}

// Category returns the category with this SNOMED code (or token).
func (r TypeRegistry) Category(code string) (Category, bool) {
	code = stripSNOMED(code)
	for _, c := range r.categories {
		if c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

// All returns every record type, in the order the service documents them.
// The slice is a copy.
func (r TypeRegistry) All() []RecordType {
	return append([]RecordType(nil), r.types...)
}

// Categories returns every record category. The slice is a copy.
func (r TypeRegistry) Categories() []Category {
	return append([]Category(nil), r.categories...)
}

// InCategory returns the record types of a category.
func (r TypeRegistry) InCategory(code string) []RecordType {
	code = stripSNOMED(code)
	var out []RecordType
	for _, t := range r.types {
		if t.Category.Code == code {
			out = append(out, t)
		}
	}
	return out
}

func stripSNOMED(code string) string {
	code = strings.TrimSpace(code)
	if rest, ok := strings.CutPrefix(code, SNOMEDSystem+"|"); ok {
		return rest
	}
	return code
}
