package nrlstest

import (
	"fmt"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
)

// Practice settings the seed pointers use.
var (
	settingMentalHealth = nrls.Concept{Code: "788002001", Display: "Adult mental health service"}
	settingGP           = nrls.Concept{Code: "1060971000000108", Display: "General practice service"}
	settingPalliative   = nrls.Concept{Code: "395092004", Display: "Specialist palliative care"}
	settingHealthcare   = nrls.Concept{Code: "224891009", Display: "Healthcare services"}
)

// seedEpoch is when the seed pointers were made, one hour apart.
var seedEpoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// seedPointer is one seed pointer, before its URL is set.
type seedPointer struct {
	nhs             shcrkit.NHSNumber
	custodian       shcrkit.ODSCode
	typ             string
	retrieval       nrls.RetrievalMechanism
	format          nrls.Format
	stability       nrls.Stability
	contentType     string
	setting         nrls.Concept
	confidentiality shcrkit.Confidentiality
	title           string
}

// seedPointers returns the seed pointers, in the order they are filed.
func seedPointers() []seedPointer {
	direct, ssp := nrls.RetrievalDirect, nrls.RetrievalSSP
	list := []seedPointer{
		{nhs: synthetic.PatientNormal, custodian: CustodianNorth, typ: nrls.TypeMentalHealthCrisisPlan, retrieval: ssp,
			setting: settingMentalHealth, title: "Mental health crisis plan"},
		{nhs: synthetic.PatientNormal, custodian: CustodianNorth, typ: nrls.TypeSummaryRecord, retrieval: direct,
			format: nrls.FormatStructured, stability: nrls.StabilityDynamic, setting: settingGP, title: "Shared care summary"},
		{nhs: synthetic.PatientNormal, custodian: CustodianSouth, typ: nrls.TypeEmergencyHealthCarePlan, retrieval: direct,
			setting: settingHealthcare, title: "Emergency health care plan"},
		{nhs: synthetic.PatientNormal, custodian: CustodianEast, typ: nrls.TypeEndOfLifeCarePlan, retrieval: ssp,
			setting: settingPalliative, confidentiality: shcrkit.ConfidentialityVeryRestricted, title: "End of life care plan"},
		{nhs: synthetic.PatientNormal, custodian: CustodianNorth, typ: nrls.TypeNEWS2Chart, retrieval: direct,
			setting: settingHealthcare, title: "NEWS2 chart"},
		{nhs: synthetic.PatientRestricted, custodian: CustodianSouth, typ: nrls.TypeRespectForm, retrieval: ssp,
			setting: settingHealthcare, confidentiality: shcrkit.ConfidentialityRestricted, title: "ReSPECT form"},
		{nhs: synthetic.PatientRestricted, custodian: CustodianNorth, typ: nrls.TypeClinicalSummary, retrieval: nrls.RetrievalInContext,
			format: nrls.FormatStructured, stability: nrls.StabilityDynamic, contentType: "text/html",
			setting: settingGP, title: "Clinical summary (in-context launch)"},
		{nhs: synthetic.PatientVeryRestricted, custodian: CustodianEast, typ: nrls.TypeAdvanceCarePlan, retrieval: direct,
			setting: settingPalliative, confidentiality: shcrkit.ConfidentialityVeryRestricted, title: "Advance care plan"},
		{nhs: synthetic.PatientDeceased, custodian: CustodianWest, typ: nrls.TypeEndOfLifeCareCoordinationSummary, retrieval: direct,
			setting: settingPalliative, title: "End of life care coordination summary"},
		{nhs: synthetic.PatientSuperseded, custodian: CustodianNorth, typ: nrls.TypeTreatmentEscalationPlan, retrieval: ssp,
			setting: settingHealthcare, title: "Treatment escalation plan"},
		{nhs: synthetic.PatientSurviving, custodian: CustodianSouth, typ: nrls.TypeContingencyPlan, retrieval: direct,
			setting: settingHealthcare, title: "Contingency plan"},
		{nhs: synthetic.PatientSurviving, custodian: CustodianWest, typ: nrls.TypePersonalisedCareAndSupportPlan, retrieval: ssp,
			setting: settingGP, title: "Personalised care and support plan"},
		{nhs: "9490000116", custodian: CustodianNorth, typ: nrls.TypePersonalisedCareAndSupportPlan, retrieval: direct,
			setting: settingGP, title: "Personalised care and support plan"},
		{nhs: "9490000116", custodian: CustodianEast, typ: nrls.TypeAppointment, retrieval: direct,
			format: nrls.FormatContactDetails, setting: settingHealthcare, title: "Appointment contact details"},
	}
	rotation := []string{
		nrls.TypeMentalHealthCrisisPlan, nrls.TypeEmergencyHealthCarePlan, nrls.TypeEndOfLifeCareCoordinationSummary,
		nrls.TypeRespectForm, nrls.TypeContingencyPlan, nrls.TypeEndOfLifeCarePlan, nrls.TypeAdvanceCarePlan,
		nrls.TypeTreatmentEscalationPlan, nrls.TypePersonalisedCareAndSupportPlan,
	}
	order := []shcrkit.ODSCode{CustodianNorth, CustodianSouth, CustodianEast, CustodianWest}
	// The generated patients of the population, after the sixteen written
	// out by hand.
	for i, p := range synthetic.Population[string]()[16:] {
		if i%2 == 0 {
			r := direct
			if i%4 == 0 {
				r = ssp
			}
			typ := rotation[(i/2)%len(rotation)]
			rt, _ := nrls.LookupType(typ)
			list = append(list, seedPointer{nhs: p.NHSNumber, custodian: p.HomeShCR, typ: typ, retrieval: r,
				setting: settingHealthcare, title: rt.Display})
		}
		if i%3 == 0 {
			away := order[(i%4+1)%len(order)]
			list = append(list, seedPointer{nhs: p.NHSNumber, custodian: away, typ: nrls.TypeNEWS2Chart, retrieval: direct,
				setting: settingHealthcare, title: "NEWS2 chart"})
		}
	}
	return list
}

// pointerURL is where a pointer of custodian base leads: https (or the
// base's own scheme) for direct retrieval, ssp:// for the Spine Secure
// Proxy.
func pointerURL(base, id string, retrieval nrls.RetrievalMechanism) string {
	u := strings.TrimRight(base, "/") + "/records/" + id
	if retrieval == nrls.RetrievalSSP {
		if i := strings.Index(u, "://"); i >= 0 {
			u = "ssp" + u[i:]
		}
	}
	return u
}

// buildSeed turns the seed list into pointers, with URLs under bases.
func buildSeed(bases map[shcrkit.ODSCode]string) ([]nrls.Pointer, error) {
	var out []nrls.Pointer
	for i, s := range seedPointers() {
		c, ok := custodianOf(s.custodian)
		if !ok {
			return nil, fmt.Errorf("nrlstest: seed pointer %d: unknown custodian", i)
		}
		local := fmt.Sprintf("%06d", i+1)
		id := string(s.custodian) + "-" + local
		spec := nrls.PointerSpec{
			NHSNumber: s.nhs, Custodian: s.custodian, Type: s.typ, URL: pointerURL(bases[s.custodian], id, s.retrieval),
			ContentType: s.contentType, Format: s.format, Stability: s.stability, Retrieval: s.retrieval,
			PracticeSetting: s.setting, Confidentiality: s.confidentiality, LocalID: local, Title: s.title,
			Created: seedEpoch.Add(time.Duration(i) * time.Hour),
		}
		if s.retrieval == nrls.RetrievalSSP {
			spec.ProviderASID = c.ShCRASID
		}
		p, err := nrls.NewPointer(spec)
		if err != nil {
			return nil, fmt.Errorf("nrlstest: seed pointer %s: %w", id, err)
		}
		p.Resource.Date = ptr.To(seedEpoch.Add(time.Duration(i) * time.Hour).Format(time.RFC3339))
		out = append(out, nrls.PointerFrom(p.Resource))
	}
	return out, nil
}
