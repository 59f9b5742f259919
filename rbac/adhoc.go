package rbac

import (
	"strings"

	"github.com/shcrkit/shcrkit"
)

// AdHoc is a one-off decision to share a record outside any sharing
// agreement, on a professional's judgement: who decided, why, on which
// principle of the ICO data sharing code or which professional guidance,
// and which records. A Request carrying one is allowed a record that no
// agreement covers only when the policy permits ad hoc sharing for the
// request's purpose; the decision says so (Decision.AdHoc), obliges
// enhanced audit and is always flagged for review.
type AdHoc struct {
	// DecidedBy names who took the decision: the professional's user ID
	// and name, or their senior's. Required.
	DecidedBy string `json:"decidedBy"`
	// Reason is why the record must be shared now. Required.
	Reason string `json:"reason"`
	// Basis is the ICO data sharing code principle or professional
	// guidance relied on (e.g. "ICO data sharing code: sharing in an
	// emergency"). Required.
	Basis string `json:"basis"`
	// Records identifies the records the decision covers (pointer IDs);
	// the caller asks only for those.
	Records []string `json:"records,omitempty"`
}

// missing lists what an ad hoc decision lacks, or "".
func (a *AdHoc) missing() string {
	var m []string
	if strings.TrimSpace(a.DecidedBy) == "" {
		m = append(m, "who decided")
	}
	if strings.TrimSpace(a.Reason) == "" {
		m = append(m, "why")
	}
	if strings.TrimSpace(a.Basis) == "" {
		m = append(m, "the ICO code principle or professional guidance relied on")
	}
	switch len(m) {
	case 0:
		return ""
	case 1:
		return m[0]
	}
	return strings.Join(m[:len(m)-1], ", ") + " and " + m[len(m)-1]
}

// Covers reports whether the decision covers the record with the given
// ID: it lists it, or lists no records at all.
func (a *AdHoc) Covers(id string) bool {
	if a == nil {
		return false
	}
	if len(a.Records) == 0 {
		return true
	}
	for _, r := range a.Records {
		if r == id {
			return true
		}
	}
	return false
}

// String summarises the decision for an audit record, without the
// records' list: "ad hoc sharing decided by …: …; basis: …".
func (a *AdHoc) String() string {
	if a == nil {
		return ""
	}
	s := "ad hoc sharing decided by " + a.DecidedBy + ": " + a.Reason + "; basis: " + a.Basis
	if n := len(a.Records); n > 0 {
		s += "; records: " + strings.Join(a.Records, ",")
	}
	return shcrkit.MaskNHSNumbers(s)
}

// adHocRule is the policy's ad_hoc_sharing section.
type adHocRule struct {
	purposes    uint8 // 0: ad hoc sharing is not permitted
	obligations *obligationSet
}

// RuleAdHocSharing is the Rule of a decision on ad hoc sharing, allowed
// or refused.
const RuleAdHocSharing = "ad_hoc_sharing"

const adHocRuleName = RuleAdHocSharing

// AdHocPurposes returns the purposes for which the policy permits ad hoc
// sharing outside any agreement; nil when it permits none.
func (p *Policy) AdHocPurposes() []shcrkit.Purpose { return purposeList(p.adHoc.purposes) }

// decideAdHoc judges an ad hoc request for a record no agreement covers:
// true when the policy permits it.
func (p *Policy) decideAdHoc(v *verdict, a *AdHoc, purpose shcrkit.Purpose) bool {
	switch {
	case p.adHoc.purposes == 0:
		v.deny(adHocRuleName, "the policy does not permit ad hoc sharing outside an agreement")
	case purpose.Valid() && p.adHoc.purposes&(1<<purpose) == 0:
		v.deny(adHocRuleName, "the policy does not permit ad hoc sharing for purpose "+purpose.String())
	case a.missing() != "":
		v.deny(adHocRuleName, "ad hoc sharing must record "+a.missing())
	default:
		return purpose.Valid()
	}
	return false
}

// adHocSharing reads the ad_hoc_sharing section: for which purposes a
// record may be shared outside any agreement. Such sharing is always
// audited in full and flagged for review.
func (c *checker) adHocSharing(p *Policy, f *policyFile) {
	s := f.AdHocSharing
	if s == nil {
		return
	}
	at := path{"ad_hoc_sharing"}
	p.adHoc.purposes = c.purposes(at.with("purposes"), s.Purposes)
	o := c.obligations(at.with("obligations"), s.Obligations, adHocRuleName)
	if o == nil {
		o = &obligationSet{rule: adHocRuleName}
	}
	o.audit, o.nonEmpty = true, true
	p.adHoc.obligations = o
}
