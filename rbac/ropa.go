package rbac

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// Defaults of the record of processing, used when the policy's
// record_of_processing section leaves them out.
var (
	defaultLawfulBases = []LawfulBasis{
		{Article: "Common law duty of confidentiality", Description: "Implied consent: information shared between those caring for the patient, for their direct care, within their reasonable expectations; a recorded dissent is honoured."},
		{Article: "UK GDPR Article 6(1)(e)", Description: "Processing is necessary for the performance of a task carried out in the public interest or in the exercise of official authority vested in the controller."},
		{Article: "UK GDPR Article 9(2)(h)", Description: "Processing is necessary for the provision of health or social care or treatment, or the management of health or social care systems and services."},
	}
	defaultDataSubjects = []string{"Patients and service users whose records are held by the parties to the agreement."}
)

// ROPA is the UK GDPR Article 30 record of processing for the
// cross-boundary sharing a policy allows: one processing activity per
// agreement in force or to come, generated from the same file that
// enforces the rules.
type ROPA struct {
	// Policy is the policy's name.
	Policy string `json:"policy"`
	// PolicyOwner is who owns and signs off the policy.
	PolicyOwner string `json:"policyOwner,omitempty"`
	// Approved is the date the policy was approved (YYYY-MM-DD), if given.
	Approved string `json:"approved,omitempty"`
	// Controller is the data controller (Article 30(1)(a)).
	Controller Party `json:"controller"`
	// DataProtectionOfficer (Article 30(1)(a)).
	DataProtectionOfficer Party `json:"dataProtectionOfficer,omitempty"`
	// Activities are the processing activities, one per agreement.
	Activities []ProcessingActivity `json:"activities"`
}

// Party names an organisation or person in the record of processing.
type Party struct {
	// Name of the party.
	Name string `json:"name,omitempty"`
	// ODS code, when the party is an organisation that has one.
	ODS shcrkit.ODSCode `json:"ods,omitempty"`
	// Contact details.
	Contact string `json:"contact,omitempty"`
}

// LawfulBasis is one lawful basis for processing, with its article.
type LawfulBasis struct {
	// Article, e.g. "UK GDPR Article 6(1)(e)".
	Article string `json:"article"`
	// Description of the basis.
	Description string `json:"description"`
}

// DataCategory is a category of personal data shared, with the record
// types in it.
type DataCategory struct {
	// ID of the policy category.
	ID string `json:"id"`
	// Description for people.
	Description string `json:"description,omitempty"`
	// RecordTypes in the category.
	RecordTypes []RecordType `json:"recordTypes,omitempty"`
}

// ProcessingActivity is one entry of the record of processing: the
// sharing carried out under one agreement.
type ProcessingActivity struct {
	// Name of the activity.
	Name string `json:"name"`
	// Agreement is the agreement's ID, and Reference its document.
	Agreement string `json:"agreement"`
	// Reference to the signed agreement, when given.
	Reference string `json:"reference,omitempty"`
	// Purposes of the processing (Article 30(1)(b)).
	Purposes []string `json:"purposes"`
	// LawfulBases for the processing.
	LawfulBases []LawfulBasis `json:"lawfulBases"`
	// DataSubjects: categories of data subjects (Article 30(1)(c)).
	DataSubjects []string `json:"dataSubjects"`
	// DataCategories: categories of personal data (Article 30(1)(c)).
	DataCategories []DataCategory `json:"dataCategories"`
	// Recipients: the parties to the agreement (Article 30(1)(d)).
	Recipients []Party `json:"recipients"`
	// InternationalTransfers (Article 30(1)(e)).
	InternationalTransfers string `json:"internationalTransfers"`
	// Retention periods (Article 30(1)(f)).
	Retention []Retention `json:"retention"`
	// SecurityMeasures: technical and organisational measures (Article
	// 30(1)(g)), from the policy's own rules and any it lists.
	SecurityMeasures []string `json:"securityMeasures"`
	// ValidFrom and ValidTo bound the agreement (YYYY-MM-DD).
	ValidFrom string `json:"validFrom"`
	// ValidTo is the agreement's last day.
	ValidTo string `json:"validTo"`
}

// Retention is how long one kind of data is kept.
type Retention struct {
	// What is kept.
	What string `json:"what"`
	// Period it is kept for.
	Period string `json:"period"`
}

// ROPA builds the record of processing from the policy. Retired
// agreements are left out.
func (p *Policy) ROPA() ROPA {
	f := p.file
	rs := f.RecordOfProcessing
	out := ROPA{
		Policy:      f.Name,
		PolicyOwner: f.Owner,
		Approved:    f.Approved,
		Controller:  Party{Name: rs.Controller.Name, ODS: shcrkit.ODSCode(rs.Controller.ODS), Contact: rs.Controller.Contact},
		DataProtectionOfficer: Party{Name: rs.DataProtectionOfficer.Name, ODS: shcrkit.ODSCode(rs.DataProtectionOfficer.ODS),
			Contact: rs.DataProtectionOfficer.Contact},
		Activities: []ProcessingActivity{},
	}
	bases := defaultLawfulBases
	if len(rs.LawfulBases) > 0 {
		bases = make([]LawfulBasis, len(rs.LawfulBases))
		for i, lb := range rs.LawfulBases {
			bases[i] = LawfulBasis(lb)
		}
	}
	subjects := defaultDataSubjects
	if len(rs.DataSubjects) > 0 {
		subjects = rs.DataSubjects
	}
	transfers := rs.InternationalTransfers
	if transfers == "" {
		transfers = "None: data is shared only between the parties, within the United Kingdom."
	}
	auditRetention := rs.AuditRetention
	if auditRetention == "" {
		auditRetention = "As set by the controller's records management policy."
	}
	retention := []Retention{{What: "Audit records of every access, allowed or refused", Period: auditRetention}}
	if rs.RecordRetention != "" {
		retention = append(retention, Retention{What: "Records retrieved from other parties", Period: rs.RecordRetention})
	}
	retention = append(retention,
		Retention{What: "Demographics traced in PDS", Period: "Not stored by the SDK: used for the access decision and display, then discarded (PDS remains the source)."},
		Retention{What: "National Record Locator pointers", Period: "Not stored by the SDK: used to find records for one access (the NRL remains the source)."})
	security := p.securityMeasures()
	for i := range p.agreements {
		a := &p.agreements[i]
		if a.retired {
			continue
		}
		act := ProcessingActivity{
			Name:                   "Cross-boundary sharing for direct care: " + a.title,
			Agreement:              a.id,
			Reference:              a.reference,
			LawfulBases:            append([]LawfulBasis(nil), bases...),
			DataSubjects:           append([]string(nil), subjects...),
			InternationalTransfers: transfers,
			Retention:              append([]Retention(nil), retention...),
			SecurityMeasures:       append([]string(nil), security...),
			ValidFrom:              a.validFrom,
			ValidTo:                a.validTo,
		}
		for _, pur := range purposeList(a.purposes) {
			act.Purposes = append(act.Purposes, purposeText(pur))
		}
		for _, cid := range a.categories {
			c := &p.categories[p.categoryIndex[cid]]
			act.DataCategories = append(act.DataCategories, DataCategory{ID: c.id, Description: c.description,
				RecordTypes: append([]RecordType(nil), c.recordTypes...)})
		}
		for _, party := range a.parties {
			act.Recipients = append(act.Recipients, Party{ODS: party, Name: p.shcrName(party)})
		}
		out.Activities = append(out.Activities, act)
	}
	return out
}

func purposeText(pur shcrkit.Purpose) string {
	switch pur {
	case shcrkit.PurposeDirectCare:
		return "Direct care of the patient (TREAT)"
	case shcrkit.PurposeEmergency:
		return "Emergency treatment of the patient (ETREAT)"
	case shcrkit.PurposeBreakGlass:
		return "Emergency access overriding the usual controls, with a recorded reason (BTG)"
	}
	return pur.String()
}

func (p *Policy) shcrName(code shcrkit.ODSCode) string {
	if code == p.local {
		return p.localName
	}
	for _, r := range p.remotes {
		if r.ods == code {
			return r.name
		}
	}
	return ""
}

// securityMeasures describes the controls the policy enforces, followed by
// any the policy lists itself.
func (p *Policy) securityMeasures() []string {
	var out []string
	if p.minAAL > 0 {
		out = append(out, fmt.Sprintf("Staff authenticate with NHS Care Identity Service 2 at authentication assurance level %d or above.", p.minAAL))
	} else {
		out = append(out, "Staff authenticate with NHS Care Identity Service 2.")
	}
	out = append(out, fmt.Sprintf("Role-based access: %d role rules over national RBAC job roles and activity codes grant %d access levels; each level sees only the data categories it needs.",
		len(p.roles), len(p.levels)))
	var kinds []string
	for k := shcrkit.RelationshipRegistered; k.Valid(); k++ {
		if p.rel[k].accepted {
			kinds = append(kinds, k.String())
		}
	}
	out = append(out, "Access needs a legitimate relationship with the patient ("+strings.Join(kinds, ", ")+").")
	var alerts []string
	for _, k := range []shcrkit.RelationshipKind{shcrkit.RelationshipSelfClaimed, shcrkit.RelationshipEmergency} {
		if rr := &p.rel[k]; rr.accepted && rr.obligations != nil && rr.obligations.alert != "" {
			alerts = append(alerts, k.String()+" access alerts the Privacy Officer ("+rr.obligations.alert+")")
		}
	}
	if len(alerts) > 0 {
		out = append(out, "Self-claimed and emergency access need a recorded reason; "+strings.Join(alerts, "; ")+".")
	}
	if p.bg.overridesDissent {
		out = append(out, "A patient's recorded dissent from sharing is honoured, except under break-glass.")
	} else {
		out = append(out, "A patient's recorded dissent from sharing is always honoured, even under break-glass.")
	}
	switch {
	case p.conf[shcrkit.ConfidentialityVeryRestricted].allowed:
		out = append(out, "Restricted and very restricted patients' records are shown only under the policy's confidentiality rules.")
	case p.conf[shcrkit.ConfidentialityRestricted].allowed:
		out = append(out, "Very restricted patients' records are never shared; restricted patients' records are shown only under the policy's confidentiality rules.")
	default:
		out = append(out, "Restricted and very restricted patients' records are never shared.")
	}
	out = append(out, "Records are shared only under an information sharing agreement in force that covers the purpose and the data category.")
	out = append(out, "Every access, allowed or refused, is written to a tamper-evident audit log before any data is released.")
	out = append(out, p.file.RecordOfProcessing.SecurityMeasures...)
	return out
}

// JSON returns the record of processing as indented JSON.
func (r ROPA) JSON() ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// Markdown returns the record of processing as a Markdown document for
// the information-governance file.
func (r ROPA) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Record of processing activities: %s\n\n", mdText(r.Policy))
	b.WriteString("UK GDPR Article 30 record for cross-boundary sharing of shared care records, generated from the access-control policy.\n\n")
	if r.PolicyOwner != "" {
		fmt.Fprintf(&b, "- **Policy owner:** %s\n", mdText(r.PolicyOwner))
	}
	if r.Approved != "" {
		fmt.Fprintf(&b, "- **Approved:** %s\n", r.Approved)
	}
	fmt.Fprintf(&b, "- **Controller:** %s\n", mdParty(r.Controller))
	if r.DataProtectionOfficer != (Party{}) {
		fmt.Fprintf(&b, "- **Data protection officer:** %s\n", mdParty(r.DataProtectionOfficer))
	}
	if len(r.Activities) == 0 {
		b.WriteString("\nNo sharing agreement is in force or due: the policy allows no cross-boundary sharing.\n")
	}
	for _, a := range r.Activities {
		fmt.Fprintf(&b, "\n## %s\n\n", mdText(a.Name))
		fmt.Fprintf(&b, "- **Agreement:** %s", a.Agreement)
		if a.Reference != "" {
			fmt.Fprintf(&b, " (%s)", mdText(a.Reference))
		}
		fmt.Fprintf(&b, ", in force %s to %s\n", a.ValidFrom, a.ValidTo)
		fmt.Fprintf(&b, "- **International transfers:** %s\n", mdText(a.InternationalTransfers))
		b.WriteString("\n### Purposes\n\n")
		for _, s := range a.Purposes {
			fmt.Fprintf(&b, "- %s\n", mdText(s))
		}
		b.WriteString("\n### Lawful bases\n\n")
		for _, lb := range a.LawfulBases {
			fmt.Fprintf(&b, "- **%s:** %s\n", mdText(lb.Article), mdText(lb.Description))
		}
		b.WriteString("\n### Data subjects\n\n")
		for _, s := range a.DataSubjects {
			fmt.Fprintf(&b, "- %s\n", mdText(s))
		}
		b.WriteString("\n### Categories of personal data\n\n| Category | Description | Record types (SNOMED CT) |\n|---|---|---|\n")
		for _, c := range a.DataCategories {
			var types []string
			for _, t := range c.RecordTypes {
				types = append(types, mdText(t.Display)+" ("+t.Code+")")
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", c.ID, mdCell(c.Description), mdCell(strings.Join(types, "; ")))
		}
		b.WriteString("\n### Recipients\n\n")
		for _, party := range a.Recipients {
			fmt.Fprintf(&b, "- %s\n", mdParty(party))
		}
		b.WriteString("\n### Retention\n\n")
		for _, rt := range a.Retention {
			fmt.Fprintf(&b, "- **%s:** %s\n", mdText(rt.What), mdText(rt.Period))
		}
		b.WriteString("\n### Security measures\n\n")
		for _, s := range a.SecurityMeasures {
			fmt.Fprintf(&b, "- %s\n", mdText(s))
		}
	}
	return b.String()
}

func mdParty(p Party) string {
	s := mdText(p.Name)
	if p.ODS != "" {
		if s != "" {
			s += " "
		}
		s += "(" + string(p.ODS) + ")"
	}
	if p.Contact != "" {
		s += ", " + mdText(p.Contact)
	}
	return s
}

// mdText flattens text to one line and escapes the characters Markdown
// would read as markup.
var mdEscaper = strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]", "<", "&lt;", ">", "&gt;", "#", "\\#")

func mdText(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

func mdCell(s string) string { return strings.ReplaceAll(mdText(s), "|", "\\|") }
