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
// that failed; the decision's Stage is StageRecord. DecideIncoming is
// safe for concurrent use; a nil Policy refuses everything.
func (p *Policy) DecideIncoming(req Incoming) Decision {
	d := Decision{Stage: StageRecord}
	if p == nil {
		d.Reasons, d.Rule = []string{"no access policy is loaded"}, "policy"
		return d
	}
	t := req.Time
	if t.IsZero() {
		t = time.Now()
	}
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
	if g.levels == 0 {
		v.deny("roles", "role "+roleName(r)+" has no access level in the policy")
	}

	// About whom, and why.
	if !req.Patient.NHSNumber.Valid() {
		v.deny("patient", "no valid NHS number for the patient")
	}
	purposeOK := req.Purpose.Valid()
	if !purposeOK {
		v.deny("purposes", "no purpose of use given")
	}
	breakGlass := req.Purpose == shcrkit.PurposeBreakGlass

	dissentOverride := false
	if req.Patient.Dissent {
		if breakGlass && p.bg.overridesDissent {
			dissentOverride = true
		} else {
			v.deny("dissent", "patient has recorded dissent from sharing")
		}
	}

	// Confidentiality and the scope asked for.
	conf, subject := req.Patient.Confidentiality, "patient"
	if req.RecordConfidentiality > conf {
		conf, subject = req.RecordConfidentiality, "record"
	}
	var confObl *obligationSet
	if !conf.Valid() {
		v.deny("confidentiality", "unknown confidentiality level")
	} else if conf != shcrkit.ConfidentialityUnrestricted {
		cr := &p.conf[conf]
		label := conf.String() + " (" + conf.Code() + ") " + subject
		if !req.Restricted {
			v.deny("scope", withArticle(label)+" was asked for under scope conf/N, which covers normal data only")
		}
		switch {
		case !cr.allowed:
			v.deny(cr.rule, "the policy does not allow access to "+withArticle(label))
		case len(cr.acts) > 0 && g.conf&(1<<conf) == 0:
			v.deny(cr.rule, withArticle(label)+" needs activity "+strings.Join(cr.acts, " or "))
		default:
			confObl = cr.obligations
		}
	}

	// The record's category.
	cat := p.resolveCategory(&Request{RecordType: req.RecordType, Category: req.Category}, &v)
	var catObl *obligationSet
	if cat >= 0 {
		bit := uint64(1) << uint(cat)
		c := &p.categories[cat]
		catObl = c.obligations
		d.Category = c.id
		switch {
		case g.levels != 0 && g.cats&bit == 0:
			v.deny("roles", "role "+roleName(r)+" lacks category "+c.id)
		case g.cats&bit != 0 && g.visible&bit == 0:
			v.deny("categories/"+c.id, "category "+c.id+" needs activity "+strings.Join(c.requires, " or "))
		}
	}

	// The agreement with the requester's shared care record.
	var bgObl *obligationSet
	rule, agreement := "local/"+string(p.local), -1
	if known && idx >= 0 {
		purposes, cats := uint8(1)<<req.Purpose, uint64(1)<<uint(cat)
		if !purposeOK {
			purposes = 0xff
		}
		if cat < 0 {
			cats = ^uint64(0)
		}
		switch ai := p.agreementIn(idx, t, purposes, cats); {
		case ai >= 0:
			rule, agreement = "agreements/"+p.agreements[ai].id, ai
		case breakGlass && p.bg.overridesAgreement:
			rule, bgObl = "break_glass", p.bg.obligations
		default:
			p.explainNoAgreement(&v, r.Organisation, idx, known, t, req.Purpose, cat)
		}
	}
	if dissentOverride {
		rule, bgObl = "break_glass", p.bg.obligations
	}

	if v.reasons != nil {
		d.Reasons, d.Rule = v.reasons, v.rule
		return d
	}
	d.Allowed, d.Rule = true, rule
	shcr := p.shcrOf(idx)
	d.Reasons = append(d.Reasons, "organisation "+string(r.Organisation)+" asks through shared care record "+string(shcr))
	if dissentOverride {
		d.Reasons = append(d.Reasons, "recorded dissent overridden by break-glass, as the policy allows")
	}
	if conf != shcrkit.ConfidentialityUnrestricted {
		d.Reasons = append(d.Reasons, conf.String()+" ("+conf.Code()+") data asked for under conf/R and allowed by the confidentiality rules")
	}
	c := p.categories[cat].id
	d.Reasons = append(d.Reasons, "category "+c+" is within the requester's access levels")
	switch {
	case agreement >= 0:
		a := &p.agreements[agreement]
		d.Agreement = a.id
		d.Reasons = append(d.Reasons, "agreement "+a.id+" between "+joinParties(a.parties)+" covers category "+c+" for purpose "+req.Purpose.String())
	case rule == "break_glass" && !dissentOverride:
		d.Reasons = append(d.Reasons, "no sharing agreement in force: overridden by break-glass, as the policy allows")
	case idx < 0:
		d.Reasons = append(d.Reasons, "requester is within the local shared care record "+string(p.local)+": no agreement needed")
	}
	d.Obligations = mergeObligations(nil, bgObl, confObl, catObl)
	return d
}
