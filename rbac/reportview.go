package rbac

import (
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/rbac/internal/policyview"
)

// The reports of rbac/report read a policy through policyview.
func init() {
	policyview.Of = func(p any) policyview.View { return p.(*Policy).view() }
}

func (p *Policy) view() policyview.View {
	v := policyview.View{
		Owner:              p.file.Owner,
		Approved:           p.file.Approved,
		Location:           p.loc,
		LocalName:          p.localName,
		DissentOverridable: p.bg.overridesDissent,
		SecurityMeasures:   p.securityMeasures(),
		Record:             p.file.RecordOfProcessing,
	}
	for _, r := range p.remotes {
		v.Remotes = append(v.Remotes, policyview.Remote{ODS: r.ods, Name: r.name})
	}
	return v
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
		p.roles, len(p.levels)))
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
