package rbac

import (
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
)

// Incoming is an access question put to the policy of a shared care
// record that holds the record: a professional of another region asks,
// through their own shared care record, for a record held here. It is the
// provider's side of the record stage that Request asks on the consumer's.
type Incoming struct {
	// Requester is the professional as the identity token states them:
	// user, role code, activity codes and organisation. The organisation
	// must belong to a shared care record the policy names.
	Requester shcrkit.Requester
	// Patient is the patient whose record is asked for, as the provider's
	// own records hold them: confidentiality and recorded dissent.
	Patient Subject
	// Purpose of use stated by the requester.
	Purpose shcrkit.Purpose
	// RecordType is the SNOMED CT code of the record's type, or "".
	RecordType string
	// Category is a policy data category ID (a FHIR search by resource
	// type, say), or "". One of RecordType and Category is required.
	Category string
	// RecordConfidentiality is the record's own label; the stricter of it
	// and the patient's applies.
	RecordConfidentiality shcrkit.Confidentiality
	// Restricted is true when the requester asked for restricted data too
	// (identity token scope conf/R). A restricted patient or record is
	// never served under conf/N.
	Restricted bool
	// Time of the access, against which agreements' dates are checked;
	// the zero value means now.
	Time time.Time
}

// DecideIncoming answers an Incoming request. It refuses by default:
// access is allowed only when
//
//   - the requester names a user and an organisation that belongs to the
//     local shared care record or to a remote one the policy names;
//   - the requester's job role and activity codes grant an access level
//     that includes the record's category, with any activity code the
//     category requires;
//   - the patient has a valid NHS number and the purpose is given;
//   - the patient has no recorded dissent (break-glass, purpose BTG,
//     overrides it only when the policy says so);
//   - a restricted or very restricted patient or record was asked for with
//     scope conf/R and is allowed by the confidentiality rules, with the
//     activity codes they require;
//   - for a requester of a remote shared care record, a sharing agreement
//     between the two is in force at the request's time and covers the
//     purpose and category (a BTG access overrides a missing agreement
//     only when the policy says so).
//
// The legitimate relationship is the consumer's to establish and check
// under the agreement: the identity token does not carry it, so the
// relationship rules of the policy do not apply here, and neither does
// the authentication assurance level. A refusal lists every requirement
// that failed. DecideIncoming is
// safe for concurrent use; a nil Policy refuses everything.
func (p *Policy) DecideIncoming(req Incoming) Decision {
	var d Decision
	if p == nil {
		return refuseWithoutPolicy(d)
	}
	t := orNow(req.Time)
	var v verdict
	r := &req.Requester

	// Who asks, and through which shared care record.
	if strings.TrimSpace(r.UserID) == "" {
		v.deny("requester", "requester has no user ID")
	}
	idx, known := p.custodians[r.Organisation]
	switch {
	case r.Organisation == "":
		v.deny("organisations", "requester has no organisation")
	case !known:
		v.deny("organisations", "organisation "+safe(string(r.Organisation))+" belongs to no shared care record named in the policy")
	}
	g := p.grantsOf(r)
	if g.badRole {
		// As Decide: a role code that is no role code is an error, not
		// a role whose activity codes alone may grant access.
		v.deny("requester", "role code "+safe(r.RoleCode)+" is malformed (want Rnnnn or Snnnn:Gnnnn:Rnnnn, the job role R and four or five digits)")
	} else if g.levels == 0 {
		v.deny("roles", "role "+roleName(r)+" has no access level in the policy")
	}

	// About whom, and why; the confidentiality asked for.
	checkPatientAndPurpose(&v, req.Patient.NHSNumber, req.Purpose)
	breakGlass := req.Purpose == shcrkit.PurposeBreakGlass
	dissentOverride := p.checkDissent(&v, req.Patient.Dissent, breakGlass)
	conf, subject := req.Patient.Confidentiality, "patient"
	if req.RecordConfidentiality > conf {
		conf, subject = req.RecordConfidentiality, "record"
	}
	if conf.Valid() && conf != shcrkit.ConfidentialityUnrestricted && !req.Restricted {
		v.deny("scope", withArticle(conf.String()+" ("+conf.Code()+") "+subject)+" was asked for under scope conf/N, which covers normal data only")
	}
	p.checkConfidentiality(&v, conf, subject, shcrkit.RelationshipNone, &g)

	// Which record, and the agreement with the requester's shared care
	// record.
	cat := p.checkCategory(&v, req.RecordType, req.Category, r, &g)
	if cat >= 0 {
		d.Category = p.categories[cat].id
	}
	agreement, overridden := -1, false
	if known && idx >= 0 {
		switch ai := p.agreementIn(idx, t, purposeSet(req.Purpose), categorySet(cat)); {
		case ai >= 0:
			agreement = ai
		case breakGlass && p.bg.overridesAgreement:
			overridden = true
		default:
			p.explainNoAgreement(&v, r.Organisation, idx, known, t, req.Purpose, cat)
		}
	}

	if v.reasons != nil {
		d.Reasons, d.Rule = v.reasons, v.rule
		return d
	}
	return p.allowIncoming(d, &req, idx, conf, cat, agreement, overridden, dissentOverride)
}

// allowIncoming writes the reasons, rule and obligations of an allowed
// incoming request, shared under agreement (an index, or -1), held
// locally (idx < 0) or on a break-glass override.
func (p *Policy) allowIncoming(d Decision, req *Incoming, idx int32, conf shcrkit.Confidentiality, cat, agreement int, overridden, dissentOverride bool) Decision {
	var bgObl, confObl *obligationSet
	d.Allowed, d.Rule = true, "local/"+string(p.local)
	if agreement >= 0 {
		d.Rule = "agreements/" + p.agreements[agreement].id
	}
	if overridden || dissentOverride {
		d.Rule, bgObl = "break_glass", p.bg.obligations
	}
	d.Reasons = append(d.Reasons, "organisation "+string(req.Requester.Organisation)+" asks through shared care record "+string(p.shcrOf(idx)))
	if dissentOverride {
		d.Reasons = append(d.Reasons, "recorded dissent overridden by break-glass, as the policy allows")
	}
	if conf != shcrkit.ConfidentialityUnrestricted {
		confObl = p.conf[conf].obligations
		d.Reasons = append(d.Reasons, conf.String()+" ("+conf.Code()+") data asked for under conf/R and allowed by the confidentiality rules")
	}
	c := &p.categories[cat]
	d.Reasons = append(d.Reasons, "category "+c.id+" is within the requester's access levels")
	switch {
	case agreement >= 0:
		a := &p.agreements[agreement]
		d.Agreement = a.id
		d.Reasons = append(d.Reasons, "agreement "+a.id+" between "+joinParties(a.parties)+" covers category "+c.id+" for purpose "+req.Purpose.String())
	case overridden && !dissentOverride:
		d.Reasons = append(d.Reasons, "no sharing agreement in force: overridden by break-glass, as the policy allows")
	case idx < 0:
		d.Reasons = append(d.Reasons, "requester is within the local shared care record "+string(p.local)+": no agreement needed")
	}
	d.Obligations = mergeObligations(nil, bgObl, confObl, c.obligations)
	return d
}
