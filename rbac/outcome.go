package rbac

import (
	"strings"

	"github.com/shcrkit/shcrkit"
)

// Scopes of a record-stage allowance: held locally, shared under a
// break-glass override of a missing agreement, shared ad hoc outside any
// agreement, or shared under agreement number scope-scopeFirstAgreement.
const (
	scopeLocal          = 0
	scopeOverride       = 1
	scopeAdHoc          = 2
	scopeFirstAgreement = 3
)

// outcomeKey is everything that shapes the reasons and obligations of an
// allowed decision. Whatever else varies between requests (who, which
// patient) does not change them, so they can be built once.
type outcomeKey struct {
	stage           reqStage
	kind            shcrkit.RelationshipKind
	purpose         shcrkit.Purpose
	conf            shcrkit.Confidentiality
	dissentOverride bool
	scope           int
	cat             int // -1 for none
}

func (k outcomeKey) pack() uint64 {
	var d uint64
	if k.dissentOverride {
		d = 1
	}
	return uint64(k.stage)&3 | (uint64(k.kind)&7)<<2 | (uint64(k.purpose)&3)<<5 | (uint64(k.conf)&3)<<7 |
		d<<9 | (uint64(k.cat+1)&0x7f)<<10 | uint64(k.scope)<<17
}

// outcome is the shared, read-only content of allowed decisions.
type outcome struct {
	reasons     []string
	obligations []Obligation
	rule        string
	agreement   string
}

// maxPrecomputedOutcomes bounds the outcomes buildOutcomes makes at load.
// Their number is the product of relationship kinds, purposes,
// confidentiality levels, categories and agreements, which a policy of a
// few hundred kilobytes can push into the millions (gigabytes, minutes to
// load, the same again at every reload). A realistic policy needs a few
// hundred; the combinations beyond the bound are built when a decision
// needs them, which allocates.
const maxPrecomputedOutcomes = 1 << 14

// buildOutcomes builds the outcome of every combination an allowed
// decision can have, up to maxPrecomputedOutcomes: each accepted
// relationship kind with each purpose it supports, each confidentiality
// level, with and without a break-glass override of dissent, and for
// records each category held locally, under a break-glass override or
// ad hoc, and then under each agreement that covers it.
func (p *Policy) buildOutcomes() {
	p.outcomes = make(map[uint64]*outcome)
	p.intern = make(map[string]string)
	defer func() { p.intern = nil }()
	bases := p.outcomeBases()
	// First the boundary and the scopes that need no agreement, then each
	// agreement.
	if p.buildUnagreed(bases) {
		p.buildAgreed(bases)
	}
}

// addOutcome builds k's outcome unless it is there; false when the
// bound on outcomes built at load is reached.
func (p *Policy) addOutcome(k outcomeKey) bool {
	if len(p.outcomes) >= maxPrecomputedOutcomes {
		return false
	}
	key := k.pack()
	if p.outcomes[key] == nil {
		p.outcomes[key] = p.buildOutcome(k)
	}
	return true
}

// outcomeBases lists every allowed (kind, purpose, confidentiality,
// dissent override) combination, as boundary keys.
func (p *Policy) outcomeBases() []outcomeKey {
	var bases []outcomeKey
	for kind := shcrkit.RelationshipRegistered; kind.Valid(); kind++ {
		rr := &p.rel[kind]
		if !rr.accepted {
			continue
		}
		for pur := shcrkit.PurposeDirectCare; pur <= shcrkit.PurposeBreakGlass; pur++ {
			if rr.purposes&(1<<pur) == 0 {
				continue
			}
			for conf := shcrkit.ConfidentialityUnrestricted; conf.Valid(); conf++ {
				if conf != shcrkit.ConfidentialityUnrestricted && !p.conf[conf].allowed {
					continue
				}
				bases = append(bases, outcomeKey{stage: stageBoundary, kind: kind, purpose: pur, conf: conf, cat: -1})
				if kind == shcrkit.RelationshipEmergency && p.bg.overridesDissent {
					bases = append(bases, outcomeKey{stage: stageBoundary, kind: kind, purpose: pur, conf: conf, dissentOverride: true, cat: -1})
				}
			}
		}
	}
	return bases
}

// buildUnagreed builds the boundary's outcomes and the records' under
// the scopes that need no agreement (local, break-glass override, ad
// hoc); false when the bound was reached.
func (p *Policy) buildUnagreed(bases []outcomeKey) bool {
	for _, k := range bases {
		if !p.addOutcome(k) {
			return false
		}
		k.stage = stageRecord
		for cat := range p.categories {
			k.cat = cat
			scopes := []int{scopeLocal}
			if k.kind == shcrkit.RelationshipEmergency && p.bg.overridesAgreement {
				scopes = append(scopes, scopeOverride)
			}
			if p.adHoc.purposes&(1<<k.purpose) != 0 {
				scopes = append(scopes, scopeAdHoc)
			}
			for _, sc := range scopes {
				k.scope = sc
				if !p.addOutcome(k) {
					return false
				}
			}
		}
	}
	return true
}

// buildAgreed builds the records' outcomes under each agreement in
// force for their purpose and category, until the bound is reached.
func (p *Policy) buildAgreed(bases []outcomeKey) {
	for ai := range p.agreements {
		a := &p.agreements[ai]
		if a.retired {
			continue
		}
		for _, k := range bases {
			if a.purposes&(1<<k.purpose) == 0 {
				continue
			}
			k.stage, k.scope = stageRecord, ai+scopeFirstAgreement
			for cat := range p.categories {
				if a.cats&(1<<uint(cat)) == 0 {
					continue
				}
				k.cat = cat
				if !p.addOutcome(k) {
					return
				}
			}
		}
	}
}

// str interns s so that the many outcomes share their reason texts.
func (p *Policy) str(s string) string {
	if p.intern == nil {
		return s
	}
	if v, ok := p.intern[s]; ok {
		return v
	}
	p.intern[s] = s
	return s
}

// buildOutcome writes the reasons and obligations of one allowed
// combination.
func (p *Policy) buildOutcome(k outcomeKey) *outcome {
	o := &outcome{}
	rr := &p.rel[k.kind]
	switch k.kind {
	case shcrkit.RelationshipSelfClaimed:
		o.reasons = append(o.reasons, p.str("self-claimed legitimate relationship with a recorded reason, accepted for purpose "+k.purpose.String()))
	case shcrkit.RelationshipEmergency:
		o.reasons = append(o.reasons, p.str("emergency (break-glass) access with a recorded reason, accepted for purpose "+k.purpose.String()))
	default:
		o.reasons = append(o.reasons, p.str("legitimate relationship "+k.kind.String()+" accepted for purpose "+k.purpose.String()))
	}
	if k.dissentOverride {
		o.reasons = append(o.reasons, p.str("recorded dissent overridden by break-glass, as the policy allows"))
	}
	var confObl *obligationSet
	if k.conf != shcrkit.ConfidentialityUnrestricted && k.conf.Valid() {
		confObl = p.conf[k.conf].obligations
		o.reasons = append(o.reasons, p.str(k.conf.String()+" ("+k.conf.Code()+") data allowed by the confidentiality rules"))
	}
	var bgObl, catObl, adHocObl *obligationSet
	if k.dissentOverride || k.scope == scopeOverride {
		bgObl = p.bg.obligations
	}
	if k.stage == stageBoundary {
		o.reasons = append(o.reasons, p.str("role grants access to data categories; each record is decided on its own"))
		o.rule = rr.rule
	} else if k.cat >= 0 && k.cat < len(p.categories) {
		c := &p.categories[k.cat]
		catObl = c.obligations
		o.reasons = append(o.reasons, p.str("category "+c.id+" is within the requester's access levels"))
		switch {
		case k.scope == scopeLocal:
			o.reasons = append(o.reasons, p.str("custodian is within the local shared care record "+string(p.local)+": no agreement needed"))
			o.rule = p.str("local/" + string(p.local))
		case k.scope == scopeOverride:
			o.reasons = append(o.reasons, p.str("no sharing agreement in force: overridden by break-glass, as the policy allows"))
			o.rule = "break_glass"
		case k.scope == scopeAdHoc:
			o.reasons = append(o.reasons, p.str("no sharing agreement covers the record: shared ad hoc, outside any agreement, as the policy permits for purpose "+
				k.purpose.String()+"; flagged for review"))
			o.rule = adHocRuleName
			adHocObl = p.adHoc.obligations
		case k.scope-scopeFirstAgreement < len(p.agreements):
			a := &p.agreements[k.scope-scopeFirstAgreement]
			o.reasons = append(o.reasons, p.str("agreement "+a.id+" between "+joinParties(a.parties)+" covers category "+c.id+" for purpose "+k.purpose.String()))
			o.rule = p.str("agreements/" + a.id)
			o.agreement = a.id
		}
	}
	if k.dissentOverride {
		o.rule = "break_glass"
	}
	o.obligations = mergeObligations(nil, rr.obligations, bgObl, confObl, catObl, adHocObl)
	// Every decision with this outcome shares the slices: with no room
	// left in them, a caller's append copies rather than writes into
	// the next decision's.
	o.reasons = o.reasons[:len(o.reasons):len(o.reasons)]
	o.obligations = o.obligations[:len(o.obligations):len(o.obligations)]
	return o
}

func joinParties(codes []shcrkit.ODSCode) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = string(c)
	}
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
