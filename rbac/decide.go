package rbac

import (
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
)

// Decision is the answer to a Request: allowed or not, why, and what the
// caller must do if it goes ahead.
//
// The Reasons and Obligations of an allowed decision are shared by every
// decision with the same outcome (they are built when the policy is
// loaded, so that deciding does not allocate): treat them as read-only and
// copy them before changing them. A refused decision's slices are its own.
type Decision struct {
	// Allowed is true only when every requirement of the policy is met.
	Allowed bool
	// Reasons explain the decision in words an information-governance lead
	// can read: for a refusal, every requirement that failed (e.g. "no
	// legitimate relationship", "role R8008 lacks category care-plans");
	// for an allowance, the rules that permitted it. They never contain a
	// patient identifier.
	Reasons []string
	// Obligations the caller must honour when it acts on an allowed
	// decision; nil for a refusal.
	Obligations []Obligation
	// Rule names the policy rule that decided: the first that refused, or
	// the one that permitted (e.g. "relationships/registered",
	// "agreements/ISA-QRX-QEM-2025", "local/QRX", "dissent").
	Rule string
	// Category is the data category of the record asked for (record stage),
	// or "" when there is none or it is unknown.
	Category string
	// Agreement is the ID of the sharing agreement that permits an allowed
	// record-stage decision, or "" (local records, boundary decisions,
	// refusals).
	Agreement string
	// AdHoc is true for a record shared outside any agreement on the ad
	// hoc decision the request recorded (Request.AdHoc): its own kind of
	// decision, always flagged for review.
	AdHoc bool
	// Verification is the outcome of checking the claimed relationship,
	// as the request carried it, whatever the decision.
	Verification Verification
}

// Err returns nil for an allowed decision and otherwise an error that
// names the rule and lists the reasons, and matches ErrDenied and
// shcrkit.ErrForbidden.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &deniedError{rule: d.Rule, reasons: append([]string(nil), d.Reasons...)}
}

// Reason joins the reasons with "; ", for an audit record's reason field.
func (d Decision) Reason() string { return strings.Join(d.Reasons, "; ") }

// Obligation returns the decision's obligation of the given kind. An
// allowed decision holds at most one of each kind, except alerts, of which
// it may hold one per activity code (the first is returned).
func (d Decision) Obligation(kind ObligationKind) (Obligation, bool) {
	if i := indexOfKind(d.Obligations, kind); i >= 0 {
		return d.Obligations[i], true
	}
	return Obligation{}, false
}

// String summarises the decision: "allowed by <rule>" or "denied by
// <rule>: <reasons>".
func (d Decision) String() string {
	if d.Allowed {
		return "allowed by " + d.Rule
	}
	return "denied by " + d.Rule + ": " + d.Reason()
}

// grants is what a requester's role and activity codes give.
type grants struct {
	levels  uint64 // access levels
	cats    uint64 // categories of those levels
	visible uint64 // cats whose activity requirement the requester also meets
	kinds   uint8  // relationship kinds whose activity requirement is met
	conf    uint8  // confidentiality levels whose activity requirement is met
	// badRole is set when RoleCode is given but is not a role code, so
	// that the check of the requester need not read it a second time.
	badRole bool
}

// jobRoleOf reads the requester's job role code, the last part of
// RoleCode ("S8000:G8000:R8000" or "R8000"), trimmed and upper-cased. ok is
// false when RoleCode is set but is not a role code: that is an error, not
// a role without grants.
func jobRoleOf(r *shcrkit.Requester) (key uint32, ok bool) {
	code := strings.TrimSpace(r.RoleCode)
	if code == "" {
		return 0, true
	}
	parts := strings.Count(code, ":") + 1
	if parts != 1 && parts != 3 {
		return 0, false
	}
	// Each part is its letter (S, G, then R; any case) and digits, spaces
	// around it trimmed; this allocates nothing, for Decide does not.
	for i := 0; i < parts; i++ {
		part := code
		if j := strings.IndexByte(code, ':'); j >= 0 {
			part, code = code[:j], code[j+1:]
		}
		part = strings.TrimSpace(part)
		letter := "SGR"[3-parts+i]
		if len(part) < 2 || part[0]|0x20 != letter|0x20 || !allDigits(part[1:]) {
			return 0, false
		}
		if i == parts-1 {
			// ToUpper allocates only when there is a lower-case letter.
			key = jobRoleKey(strings.ToUpper(part))
		}
	}
	return key, key != 0
}

func (p *Policy) grantsOf(r *shcrkit.Requester) grants {
	jr, ok := jobRoleOf(r)
	g := grants{badRole: !ok}
	var catSat uint64
	if jr != 0 {
		g.levels = p.jobRoleLevels[jr]
	}
	for _, a := range r.Activities {
		n, ok := activityNumber(a)
		if !ok || p.actIndex[n] == 0 {
			continue
		}
		ag := &p.actGrants[p.actIndex[n]-1]
		g.levels |= ag.levels
		if ag.byJobRole != nil && jr != 0 {
			g.levels |= ag.byJobRole[jr]
		}
		catSat |= ag.cats
		g.kinds |= ag.kinds
		g.conf |= ag.conf
	}
	for l := g.levels; l != 0; l &= l - 1 {
		g.cats |= p.levels[bits.TrailingZeros64(l)].cats
	}
	g.visible = g.cats & (p.freeCats | catSat)
	return g
}

// verdict collects refusals. It allocates only when something fails.
type verdict struct {
	reasons []string
	rule    string
}

func (v *verdict) deny(rule, reason string) {
	if v.rule == "" {
		v.rule = rule
	}
	v.reasons = append(v.reasons, reason)
}

// Decide answers one access request. It refuses by default: access is
// allowed only when
//
//   - the requester names a user and an organisation that is a member of
//     the local shared care record, and meets the policy's authentication
//     assurance level;
//   - the requester's job role and activity codes grant an access level;
//   - the patient has a valid NHS number and the purpose is given;
//   - the relationship is of a kind the policy accepts for that purpose,
//     with the reason, evidence and activity codes it requires;
//   - the patient has no recorded dissent (break-glass overrides it only
//     when the policy says so);
//   - a restricted or very restricted patient or record is allowed by the
//     confidentiality rules;
//
// and, for a record (a request that names a custodian, record type or
// category, or a record's confidentiality):
//
//   - the record type belongs to a category the requester's access levels
//     include, with any activity code the category requires;
//   - the custodian is held locally, or a sharing agreement between the
//     local and the custodian's shared care record is in force at the
//     request's time and covers the purpose and category (break-glass
//     overrides a missing agreement only when the policy says so).
//
// A refusal lists every requirement that failed. Decide does not allocate
// when it allows, and is safe for concurrent use. A nil Policy refuses
// everything.
func (p *Policy) Decide(req Request) Decision {
	stage := req.stage()
	d := Decision{Verification: req.Verification}
	if p == nil {
		return refuseWithoutPolicy(d)
	}
	t := orNow(req.Time)
	var v verdict

	// Who asks.
	g := p.checkRequester(&v, &req.Requester, stage)

	// About whom, and why: the patient, the purpose and the relationship.
	purposeOK := checkPatientAndPurpose(&v, req.Patient.NHSNumber, req.Purpose)
	kind := req.Relationship.Kind
	breakGlass := p.checkRelationship(&v, &req, &g, purposeOK) && kind == shcrkit.RelationshipEmergency
	dissentOverride := p.checkDissent(&v, req.Patient.Dissent, breakGlass)
	conf, subject := req.Patient.Confidentiality, "patient"
	if stage == stageRecord && req.RecordConfidentiality > conf {
		conf, subject = req.RecordConfidentiality, "record"
	}
	p.checkConfidentiality(&v, conf, subject, kind, &g)

	// Which record: its category and who holds it.
	cat, scope := -1, scopeLocal
	if stage == stageRecord {
		cat = p.checkCategory(&v, req.RecordType, req.Category, &req.Requester, &g)
		if cat >= 0 {
			d.Category = p.categories[cat].id
		}
		scope = p.checkCustodian(&v, &req, t, cat, breakGlass)
	}

	if v.reasons != nil {
		d.Reasons, d.Rule = v.reasons, v.rule
		return d
	}
	k := outcomeKey{stage: stage, kind: kind, purpose: req.Purpose, conf: conf,
		dissentOverride: dissentOverride, scope: scope, cat: cat}
	o := p.outcomes[k.pack()]
	if o == nil {
		// Built at load up to maxPrecomputedOutcomes; past that (a policy
		// with very many agreements) it is built now.
		o = p.buildOutcome(k)
	}
	d.Allowed, d.Reasons, d.Obligations, d.Rule, d.Agreement = true, o.reasons, o.obligations, o.rule, o.agreement
	d.AdHoc = scope == scopeAdHoc
	return d
}

// refuseWithoutPolicy is the refusal of a nil Policy.
func refuseWithoutPolicy(d Decision) Decision {
	d.Reasons, d.Rule = []string{"no access policy is loaded"}, "policy"
	return d
}

// orNow is t, or the current time when t is zero.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// checkRequester refuses a requester who names no user, is not of a
// member of the local shared care record, signed in below the policy's
// assurance level or holds a role that grants nothing, and returns what
// their role grants.
func (p *Policy) checkRequester(v *verdict, r *shcrkit.Requester, stage reqStage) grants {
	if strings.TrimSpace(r.UserID) == "" {
		v.deny("requester", "requester has no user ID")
	}
	switch {
	case r.Organisation == "":
		v.deny("local", "requester has no organisation")
	case !p.isMember(r.Organisation):
		v.deny("local", "organisation "+safe(string(r.Organisation))+" is not a member of the local shared care record "+string(p.local))
	}
	if p.minAAL > 0 && r.AssuranceLevel < p.minAAL {
		v.deny("authentication", "authentication assurance level "+strconv.Itoa(r.AssuranceLevel)+" is below the required "+strconv.Itoa(p.minAAL))
	}
	g := p.grantsOf(r)
	if g.badRole {
		v.deny("requester", "role code "+safe(r.RoleCode)+" is malformed (want Rnnnn or Snnnn:Gnnnn:Rnnnn, the job role R and four or five digits)")
	} else if g.levels == 0 {
		v.deny("roles", "role "+roleName(r)+" has no access level in the policy")
	} else if stage == stageBoundary && g.visible == 0 {
		v.deny("roles", "role "+roleName(r)+" may see no data category")
	}
	return g
}

// checkPatientAndPurpose refuses a request without a valid NHS number or
// a purpose of use, and reports whether the purpose is valid.
func checkPatientAndPurpose(v *verdict, n shcrkit.NHSNumber, purpose shcrkit.Purpose) bool {
	if !n.Valid() {
		v.deny("patient", "no valid NHS number for the patient")
	}
	if !purpose.Valid() {
		v.deny("purposes", "no purpose of use given")
		return false
	}
	return true
}

// checkRelationship refuses a legitimate relationship the policy does not
// accept, or accepts only with a purpose, reason, evidence, activity code
// or verification the request lacks; it reports whether the relationship
// holds.
func (p *Policy) checkRelationship(v *verdict, req *Request, g *grants, purposeOK bool) bool {
	kind := req.Relationship.Kind
	switch {
	case kind == shcrkit.RelationshipNone:
		v.deny("relationships", "no legitimate relationship")
		return false
	case !kind.Valid() || !p.rel[kind].accepted:
		v.deny("relationships", "relationship "+kind.String()+" is not accepted by the policy")
		return false
	}
	rr := &p.rel[kind]
	n := len(v.reasons)
	if purposeOK && rr.purposes&(1<<req.Purpose) == 0 {
		v.deny(rr.rule, "relationship "+kind.String()+" does not support purpose "+req.Purpose.String())
	}
	if rr.requiresReason && strings.TrimSpace(req.Relationship.Reason) == "" {
		v.deny(rr.rule, withArticle(kind.String())+" relationship needs a recorded reason")
	}
	if rr.requiresEvidence && strings.TrimSpace(req.Relationship.Evidence) == "" {
		v.deny(rr.rule, withArticle(kind.String())+" relationship needs evidence")
	}
	if len(rr.acts) > 0 && g.kinds&(1<<kind) == 0 {
		v.deny(rr.rule, withArticle(kind.String())+" relationship needs activity "+strings.Join(rr.acts, " or "))
	}
	return checkVerification(v, rr, &req.Verification) && len(v.reasons) == n
}

// checkDissent refuses a patient's recorded dissent from sharing unless
// break-glass overrides it, as the policy may allow; it reports an
// override.
func (p *Policy) checkDissent(v *verdict, dissent, breakGlass bool) bool {
	if !dissent {
		return false
	}
	if breakGlass && p.bg.overridesDissent {
		return true
	}
	v.deny("dissent", "patient has recorded dissent from sharing")
	return false
}

// checkConfidentiality refuses a restricted or very restricted subject
// ("patient" or "record") that the confidentiality rules do not allow
// for the relationship kind and the requester's activity codes.
func (p *Policy) checkConfidentiality(v *verdict, conf shcrkit.Confidentiality, subject string, kind shcrkit.RelationshipKind, g *grants) {
	if !conf.Valid() {
		v.deny("confidentiality", "unknown confidentiality level")
		return
	}
	if conf == shcrkit.ConfidentialityUnrestricted {
		return
	}
	cr := &p.conf[conf]
	label := conf.String() + " (" + conf.Code() + ") " + subject
	if !cr.allowed {
		v.deny(cr.rule, "the policy does not allow access to "+withArticle(label))
		return
	}
	if cr.kinds != 0 && kind != shcrkit.RelationshipNone && kind.Valid() && cr.kinds&(1<<kind) == 0 {
		v.deny(cr.rule, "relationship "+kind.String()+" is not accepted for "+withArticle(label))
	}
	if len(cr.acts) > 0 && g.conf&(1<<conf) == 0 {
		v.deny(cr.rule, withArticle(label)+" needs activity "+strings.Join(cr.acts, " or "))
	}
}

// checkCategory finds the category of the record asked for and refuses
// one the requester's access levels or activity codes do not reach. It
// returns the category, or -1.
func (p *Policy) checkCategory(v *verdict, recordType, category string, r *shcrkit.Requester, g *grants) int {
	cat := p.resolveCategory(v, recordType, category)
	if cat < 0 {
		return -1
	}
	bit := uint64(1) << uint(cat)
	c := &p.categories[cat]
	switch {
	case g.levels != 0 && g.cats&bit == 0:
		v.deny("roles", "role "+roleName(r)+" lacks category "+c.id)
	case g.cats&bit != 0 && g.visible&bit == 0:
		v.deny("categories/"+c.id, "category "+c.id+" needs activity "+strings.Join(c.requires, " or "))
	}
	return cat
}

// checkCustodian returns the scope under which the record may be shared:
// held locally, under an agreement in force that covers the purpose and
// category, on a break-glass override or an ad hoc decision the policy
// permits; otherwise it refuses and says why.
func (p *Policy) checkCustodian(v *verdict, req *Request, t time.Time, cat int, breakGlass bool) int {
	if req.Custodian == "" {
		v.deny("custodians", "no custodian given for the record")
		return scopeLocal
	}
	idx, known := p.custodians[req.Custodian]
	if known && idx < 0 {
		return scopeLocal
	}
	if known {
		if ai := p.agreementIn(idx, t, purposeSet(req.Purpose), categorySet(cat)); ai >= 0 {
			return ai + scopeFirstAgreement
		}
	}
	switch {
	case breakGlass && p.bg.overridesAgreement:
		return scopeOverride
	case req.AdHoc != nil && p.decideAdHoc(v, req.AdHoc, req.Purpose):
		return scopeAdHoc
	}
	p.explainNoAgreement(v, req.Custodian, idx, known, t, req.Purpose, cat)
	return scopeLocal
}

// purposeSet is the set of purposes an agreement must cover: the
// request's, or any when it has none (and is refused for that already).
func purposeSet(purpose shcrkit.Purpose) uint8 {
	if !purpose.Valid() {
		return 0xff
	}
	return 1 << purpose
}

// categorySet is the set of categories an agreement must cover: the
// record's, or any when it is unknown (and refused for that already).
func categorySet(cat int) uint64 {
	if cat < 0 {
		return ^uint64(0)
	}
	return 1 << uint(cat)
}

// resolveCategory finds the category of the record asked for, refusing
// when there is none, it is unknown, or the type and category disagree.
func (p *Policy) resolveCategory(v *verdict, recordType, category string) int {
	byType, byName := -1, -1
	if recordType != "" {
		i, ok := p.typeCategory[recordType]
		if !ok {
			v.deny("categories", "record type "+safe(recordType)+" is not in any data category")
			return -1
		}
		byType = i
	}
	if category != "" {
		i, ok := p.categoryIndex[category]
		if !ok {
			v.deny("categories", "unknown data category "+safe(category))
			return -1
		}
		byName = i
	}
	switch {
	case byType >= 0 && byName >= 0 && byType != byName:
		v.deny("categories", "record type "+recordType+" is in category "+p.categories[byType].id+", not "+p.categories[byName].id)
		return -1
	case byType >= 0:
		return byType
	case byName >= 0:
		return byName
	}
	v.deny("categories", "no record type or data category given for the record")
	return -1
}

// explainNoAgreement says why no agreement covers a remote custodian.
func (p *Policy) explainNoAgreement(v *verdict, custodian shcrkit.ODSCode, idx int32, known bool, t time.Time, purpose shcrkit.Purpose, cat int) {
	day := t.In(p.loc).Format(time.DateOnly)
	if !known {
		v.deny("agreements", "no sharing agreement between "+string(p.local)+" and "+safe(string(custodian))+
			" in force on "+day+": the custodian belongs to no shared care record named in the policy")
		return
	}
	remote := p.remotes[idx].ods
	inForce := false
	for _, ai := range p.remotes[idx].agreements {
		a := &p.agreements[ai]
		if t.Before(a.from) || !t.Before(a.to) {
			continue
		}
		inForce = true
		if purpose.Valid() && a.purposes&(1<<purpose) == 0 {
			v.deny("agreements/"+a.id, "agreement "+a.id+" between "+string(p.local)+" and "+string(remote)+" does not cover purpose "+purpose.String())
		}
		if cat >= 0 && a.cats&(1<<uint(cat)) == 0 {
			v.deny("agreements/"+a.id, "agreement "+a.id+" between "+string(p.local)+" and "+string(remote)+" does not cover category "+p.categories[cat].id)
		}
	}
	if !inForce {
		v.deny("agreements", "no sharing agreement between "+string(p.local)+" and "+string(remote)+" in force on "+day)
		for _, ai := range p.remotes[idx].agreements {
			a := &p.agreements[ai]
			if r := a.inactiveReason(t); r != "" {
				v.deny("agreements/"+a.id, r)
			}
		}
	}
}

// roleName names the requester's role in a reason: its job role code, or
// the role code as given.
func roleName(r *shcrkit.Requester) string {
	if jr := r.JobRole(); jr != "" {
		return jr
	}
	if r.RoleCode == "" {
		return "(none)"
	}
	return safe(r.RoleCode)
}

// safe keeps caller-supplied text in a reason short and free of NHS
// numbers: a plain code is shown as it is, anything else quoted.
func safe(s string) string {
	s = shcrkit.Redact(s)
	plain := len(s) > 0 && len(s) <= 20
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == ':' || c == '*'
	}
	if plain {
		return s
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

// withArticle puts "a" or "an" before a word.
func withArticle(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}
