package rbac

import (
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
)

// Signatory is a person who signed an agreement off for their
// organisation.
type Signatory struct {
	// Name of the person.
	Name string `json:"name"`
	// Role in which they signed, e.g. "Caldicott Guardian".
	Role string `json:"role,omitempty"`
	// Organisation they signed for: its ODS code or name.
	Organisation string `json:"organisation,omitempty"`
	// Date signed (YYYY-MM-DD).
	Date string `json:"date,omitempty"`
}

// DSPA names the joint data sharing and processing agreement that an
// information sharing agreement conforms to.
type DSPA struct {
	// Reference of the DSPA document.
	Reference string `json:"reference"`
	// Version of it.
	Version string `json:"version,omitempty"`
}

// agreementInForce reports whether a is in force at t: not retired, on or
// after its first day and on or before its last, in the policy's time
// zone.
func (p *Policy) agreementInForce(a *agreement, t time.Time) bool {
	return !a.retired && !t.Before(a.from) && t.Before(a.to)
}

// AgreementsEnding returns the agreements, retired ones aside, whose last
// day in force falls within [from, to): those an information-governance
// lead must renew or let lapse. They come in order of their end.
func (p *Policy) AgreementsEnding(from, to time.Time) []Agreement {
	var idx []int
	for i := range p.agreements {
		a := &p.agreements[i]
		if a.retired || a.to.IsZero() {
			continue
		}
		last := a.to.AddDate(0, 0, -1)
		if !last.Before(from) && last.Before(to) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(x, y int) int { return p.agreements[x].to.Compare(p.agreements[y].to) })
	return p.publicAgreements(idx)
}

// AgreementsDueForReview returns the agreements, retired and ended ones
// aside (judged at from), whose review date falls before to: those due
// for review within the window and those whose review is overdue. They
// come in order of their review date.
func (p *Policy) AgreementsDueForReview(from, to time.Time) []Agreement {
	var idx []int
	for i := range p.agreements {
		a := &p.agreements[i]
		if a.retired || a.review.IsZero() || !from.Before(a.to) {
			continue
		}
		if a.review.Before(to) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(x, y int) int { return p.agreements[x].review.Compare(p.agreements[y].review) })
	return p.publicAgreements(idx)
}

// RemotesWithoutAgreement returns the remote shared care records named in
// the policy with no agreement in force at t, in policy order: their
// records cannot be shared (short of a break-glass override or ad hoc
// sharing).
func (p *Policy) RemotesWithoutAgreement(t time.Time) []shcrkit.ODSCode {
	var out []shcrkit.ODSCode
	for _, r := range p.remotes {
		inForce := false
		for _, ai := range r.agreements {
			if p.agreementInForce(&p.agreements[ai], t) {
				inForce = true
				break
			}
		}
		if !inForce {
			out = append(out, r.ods)
		}
	}
	return out
}

// SitesOf returns the sites a local member organisation lists (GP
// practices of a primary care network, say), whose registered patients
// count as the member's own; nil when it lists none.
func (p *Policy) SitesOf(org shcrkit.ODSCode) []shcrkit.ODSCode {
	return slices.Clone(p.sites[org])
}

func (p *Policy) publicAgreements(idx []int) []Agreement {
	if len(idx) == 0 {
		return nil
	}
	out := make([]Agreement, len(idx))
	for i, ai := range idx {
		out[i] = p.agreements[ai].public()
	}
	return out
}

// inactiveReason says why an agreement that is not retired is not in force
// at t: "agreement ISA-… ended on 2030-12-31" or "… begins on …".
func (a *agreement) inactiveReason(t time.Time) string {
	switch {
	case a.from.IsZero():
		return ""
	case t.Before(a.from):
		return "agreement " + a.id + " begins on " + a.validFrom
	case !t.Before(a.to):
		return "agreement " + a.id + " ended on " + a.validTo
	}
	return ""
}

// signOff reads what an information-governance lead signs off: version,
// signatories, review date and the joint DSPA.
func (c *checker) signOff(p *Policy, ap path, as agreementSpec, a *agreement) {
	for j, s := range as.Signatories {
		sp := ap.with("signatories", j)
		if strings.TrimSpace(s.Name) == "" {
			c.add(sp.with("name"), "a signatory of agreement %s needs a name", as.ID)
		}
		if s.Date != "" {
			if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
				c.add(sp.with("date"), "date %q is not a date (YYYY-MM-DD)", s.Date)
			}
		}
		a.signatories = append(a.signatories, Signatory(s))
	}
	if as.ReviewDate != "" {
		d, err := time.ParseInLocation(time.DateOnly, as.ReviewDate, p.loc)
		if err != nil {
			c.add(ap.with("review_date"), "review_date %q is not a date (YYYY-MM-DD)", as.ReviewDate)
		} else {
			a.review = d
		}
	}
	if d := as.DSPA; d != nil {
		if strings.TrimSpace(d.Reference) == "" {
			c.add(ap.with("dspa", "reference"), "the DSPA of agreement %s needs a reference", as.ID)
		}
		a.dspa = DSPA{Reference: d.Reference, Version: d.Version}
	}
}
