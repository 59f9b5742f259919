package rbac

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"go.yaml.in/yaml/v3"
)

// Limits that keep the decision tables small: categories and access
// levels are held as 64-bit sets.
const (
	maxCategories   = 64
	maxAccessLevels = 64
	maxAgreements   = 1 << 12
)

// checker collects every problem of a policy, each located in the file.
type checker struct {
	root *yaml.Node
	errs []error
}

func (c *checker) add(p path, format string, args ...any) {
	c.errs = append(c.errs, &PolicyError{Line: lineOf(c.root, p), Path: p.String(), Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// compile validates the decoded file and builds the decision tables.
func compile(f *policyFile, root *yaml.Node) (*Policy, error) {
	c := &checker{root: root}
	p := &Policy{
		file:          f,
		sites:         make(map[shcrkit.ODSCode][]shcrkit.ODSCode),
		custodians:    make(map[shcrkit.ODSCode]int32),
		categoryIndex: make(map[string]int),
		typeCategory:  make(map[string]int),
		levelIndex:    make(map[string]int),
		jobRoleLevels: make(map[uint32]uint64),
		activities:    make(map[string]*activityGrant),
	}
	if f.Version != 1 {
		c.add(path{"version"}, "version must be 1, got %d", f.Version)
	}
	if strings.TrimSpace(f.Name) == "" {
		c.add(path{"name"}, "a policy needs a name")
	}
	if f.Approved != "" {
		if _, err := time.Parse(time.DateOnly, f.Approved); err != nil {
			c.add(path{"approved"}, "%q is not a date (YYYY-MM-DD)", f.Approved)
		}
	}
	tz := f.Timezone
	if tz == "" {
		tz = "Europe/London"
	}
	loc, err := time.LoadLocation(tz)
	switch {
	case err != nil:
		c.add(path{"timezone"}, "unknown time zone %q", tz)
		loc = time.UTC
	case strings.EqualFold(strings.TrimSpace(tz), "Local"):
		// time.Local is the host's zone: agreements' days would begin and
		// end at different instants on differently configured hosts.
		c.add(path{"timezone"}, "time zone %q is the host's own; name a zone (Europe/London, UTC)", tz)
		loc = time.UTC
	}
	p.loc = loc
	if f.Authentication.MinAssuranceLevel < 0 || f.Authentication.MinAssuranceLevel > 4 {
		c.add(path{"authentication", "min_assurance_level"}, "assurance level %d is outside 0..4", f.Authentication.MinAssuranceLevel)
	}
	p.minAAL = f.Authentication.MinAssuranceLevel

	c.organisations(p, f)
	c.categories(p, f)
	c.accessLevels(p, f)
	activities := c.activityIncludes(f)
	c.roles(p, f, activities)
	c.relationships(p, f, activities)
	c.confidentiality(p, f, activities)
	c.breakGlass(p, f)
	c.agreements(p, f)
	c.adHocSharing(p, f)
	c.recordOfProcessing(f)
	if err := c.err(); err != nil {
		return nil, err
	}
	p.indexActivities()
	p.buildOutcomes()
	return p, nil
}

// organisations reads the local shared care record, its members and the
// remote shared care records.
func (c *checker) organisations(p *Policy, f *policyFile) {
	seen := make(map[shcrkit.ODSCode]path)
	claim := func(at path, s string) (shcrkit.ODSCode, bool) {
		code, err := shcrkit.ParseODSCode(s)
		if err != nil {
			c.add(at, "%q is not an ODS code", s)
			return "", false
		}
		if string(code) != s {
			c.add(at, "ODS code %q must be written in upper case", s)
		}
		if prev, dup := seen[code]; dup {
			c.add(at, "organisation %s is already named at %s", code, prev)
			return "", false
		}
		seen[code] = at
		return code, true
	}
	lp := path{"local"}
	if f.Local.ShCR == "" {
		c.add(lp.with("shcr"), "the ODS code of the local shared care record is required")
	} else if code, ok := claim(lp.with("shcr"), f.Local.ShCR); ok {
		p.local = code
		p.custodians[code] = -1
	}
	if strings.TrimSpace(f.Local.Name) == "" {
		c.add(lp.with("name"), "the local shared care record needs a name")
	}
	p.localName = f.Local.Name
	for i, m := range f.Local.Members {
		mp := lp.with("members", i)
		code, ok := claim(mp.with("ods"), m.ODS)
		if ok {
			p.custodians[code] = -1
		}
		for j, site := range m.Sites {
			sc, err := shcrkit.ParseODSCode(site)
			switch {
			case err != nil || string(sc) != site:
				c.add(mp.with("sites", j), "site %q is not an ODS code in upper case", site)
			case contains(partyStrings(p.sites[code]), site):
				c.add(mp.with("sites", j), "site %s is listed twice", site)
			case ok:
				p.sites[code] = append(p.sites[code], sc)
			}
		}
		if strings.TrimSpace(m.Name) == "" {
			c.add(mp.with("name"), "member %s needs a name", m.ODS)
		}
	}
	for i, r := range f.RemoteShCRs {
		rp := path{"remote_shcrs", i}
		code, ok := claim(rp.with("ods"), r.ODS)
		if strings.TrimSpace(r.Name) == "" {
			c.add(rp.with("name"), "shared care record %s needs a name", r.ODS)
		}
		if !ok {
			continue
		}
		idx := int32(len(p.remotes))
		p.remotes = append(p.remotes, remoteShCR{ods: code, name: r.Name})
		p.custodians[code] = idx
		for j, m := range r.Members {
			mp := rp.with("members", j)
			if len(m.Sites) > 0 {
				c.add(mp.with("sites"), "sites are listed for members of the local shared care record only")
			}
			if mc, ok := claim(mp.with("ods"), m.ODS); ok {
				p.custodians[mc] = idx
			}
			if strings.TrimSpace(m.Name) == "" {
				c.add(mp.with("name"), "member %s needs a name", m.ODS)
			}
		}
	}
}

// sized checks the length n of the list at field: at least one (one
// names an item), at most max (many names the items). It returns false
// when the list is too long to read further.
func (c *checker) sized(field string, n, max int, one, many string) bool {
	if n == 0 {
		c.add(path{field}, "a policy needs at least one %s", one)
	}
	if n > max {
		c.add(path{field}, "at most %d %s, got %d", max, many, n)
		return false
	}
	return true
}

// checkID checks the id of an item the policy defines (what names its
// kind): its form and, when dup says an item before it has the same id,
// that it is defined twice.
func (c *checker) checkID(at path, what, id string, dup bool) {
	if !validID(id) {
		c.add(at, "%s id %q must be lower-case letters, digits and hyphens", what, id)
	} else if dup {
		c.add(at, "%s %s is defined twice", what, id)
	}
}

// categories reads the data categories and the record types in each.
func (c *checker) categories(p *Policy, f *policyFile) {
	if !c.sized("categories", len(f.Categories), maxCategories, "data category", "categories") {
		return
	}
	typeAt := make(map[string]path)
	for i, cs := range f.Categories {
		cp := path{"categories", i}
		_, dup := p.categoryIndex[cs.ID]
		c.checkID(cp.with("id"), "category", cs.ID, dup)
		cat := category{id: cs.ID, description: cs.Description}
		p.categoryIndex[cs.ID] = i
		for j, rt := range cs.RecordTypes {
			rp := cp.with("record_types", j)
			if !validSNOMED(rt.Code) {
				c.add(rp.with("code"), "record type %q is not a SNOMED CT code", rt.Code)
				continue
			}
			if prev, dup := typeAt[rt.Code]; dup {
				c.add(rp.with("code"), "record type %s is already in %s", rt.Code, prev)
				continue
			}
			typeAt[rt.Code] = cp.with("id")
			if strings.TrimSpace(rt.Display) == "" {
				c.add(rp.with("display"), "record type %s needs a display name", rt.Code)
			}
			p.typeCategory[rt.Code] = i
			cat.recordTypes = append(cat.recordTypes, RecordType{Code: rt.Code, Display: rt.Display, Category: cs.ID})
		}
		cat.requires = c.activityList(cp.with("requires_activities"), cs.RequiresActivities)
		if len(cat.requires) == 0 {
			p.freeCats |= 1 << uint(i)
		}
		cat.obligations = c.obligations(cp.with("obligations"), cs.Obligations, "categories/"+cs.ID)
		p.categories = append(p.categories, cat)
	}
}

// accessLevels reads which categories each access level may see.
func (c *checker) accessLevels(p *Policy, f *policyFile) {
	if !c.sized("access_levels", len(f.AccessLevels), maxAccessLevels, "access level", "access levels") {
		return
	}
	for i, ls := range f.AccessLevels {
		lp := path{"access_levels", i}
		_, dup := p.levelIndex[ls.ID]
		c.checkID(lp.with("id"), "access level", ls.ID, dup)
		p.levelIndex[ls.ID] = i
		lvl := accessLevel{id: ls.ID, description: ls.Description}
		if len(ls.Categories) == 0 {
			c.add(lp.with("categories"), "access level %s grants no category", ls.ID)
		}
		lvl.cats, _ = c.categoryList(p, lp.with("categories"), ls.Categories)
		p.levels = append(p.levels, lvl)
	}
}

// activityIncludes reads which activity codes include others (B0380
// Perform Detailed Health Record includes B0360 View Detailed Health
// Records) and returns the closure: for each code, every code it
// satisfies, itself included.
func (c *checker) activityIncludes(f *policyFile) map[string][]string {
	direct := make(map[string][]string)
	for i, inc := range f.ActivityIncludes {
		ip := path{"activity_includes", i}
		if !validActivity(inc.Activity) {
			c.add(ip.with("activity"), "%q is not an activity code (B followed by four digits)", inc.Activity)
			continue
		}
		if _, dup := direct[inc.Activity]; dup {
			c.add(ip.with("activity"), "activity %s is listed twice", inc.Activity)
			continue
		}
		if len(inc.Includes) == 0 {
			c.add(ip.with("includes"), "activity %s includes nothing", inc.Activity)
		}
		direct[inc.Activity] = c.activityList(ip.with("includes"), inc.Includes)
	}
	closure := make(map[string][]string)
	for code := range direct {
		seen := map[string]bool{code: true}
		stack := []string{code}
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, next := range direct[top] {
				if !seen[next] {
					seen[next] = true
					stack = append(stack, next)
				}
			}
		}
		all := make([]string, 0, len(seen))
		for s := range seen {
			all = append(all, s)
		}
		sort.Strings(all)
		closure[code] = all
	}
	return closure
}

// satisfiers returns the activity codes that satisfy a requirement for
// any of want: the codes themselves and every code that includes one.
func satisfiers(want []string, closure map[string][]string) []string {
	out := append([]string(nil), want...)
	for code, incl := range closure {
		for _, w := range want {
			if code != w && contains(incl, w) && !contains(out, code) {
				out = append(out, code)
			}
		}
	}
	sort.Strings(out)
	return out
}

// indexActivities moves the activity grants into the table Decide uses.
func (p *Policy) indexActivities() {
	codes := make([]string, 0, len(p.activities))
	for code := range p.activities {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	p.actGrants = make([]activityGrant, 0, len(codes))
	for _, code := range codes {
		n, _ := activityNumber(code)
		p.actGrants = append(p.actGrants, *p.activities[code])
		p.actIndex[n] = uint16(len(p.actGrants))
	}
	p.activities = nil
}

// jobRoleKey is a job role code as a map key: the digits' value with
// their count in the top byte, so that codes are told apart exactly as
// the strings they are (R8000, R08000 and R0008000 are three codes, R0260
// and R260 two). It is 0 when code is not a job role code (R followed by
// four or five digits, as validJobRole says); callers compare codes after
// trimming and upper-casing them (see jobRoleOf).
func jobRoleKey(code string) uint32 {
	if !validJobRole(code) {
		return 0
	}
	var n uint32
	for i := 1; i < len(code); i++ {
		n = n*10 + uint32(code[i]-'0')
	}
	return uint32(len(code)-1)<<24 | n
}

// activityNumber reads an activity code "Bnnnn" as its number.
func activityNumber(code string) (int, bool) {
	if len(code) != 5 || code[0] != 'B' {
		return 0, false
	}
	n := 0
	for i := 1; i < 5; i++ {
		c := code[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (p *Policy) grant(code string) *activityGrant {
	g := p.activities[code]
	if g == nil {
		g = &activityGrant{}
		p.activities[code] = g
	}
	return g
}

// roles reads which job roles and activity codes grant which access
// levels, and folds them into lookup tables by job role and by activity.
func (c *checker) roles(p *Policy, f *policyFile, closure map[string][]string) {
	if len(f.Roles) == 0 {
		c.add(path{"roles"}, "a policy needs at least one role")
	}
	ids := make(map[string]bool)
	for i, rs := range f.Roles {
		rp := path{"roles", i}
		c.checkID(rp.with("id"), "role", rs.ID, ids[rs.ID])
		ids[rs.ID] = true
		if len(rs.JobRoles) == 0 && len(rs.Activities) == 0 {
			c.add(rp, "role %s names neither job_roles nor activities", rs.ID)
		}
		var jobRoles []string
		for j, jr := range rs.JobRoles {
			if !validJobRole(jr) {
				c.add(rp.with("job_roles", j), "%q is not a job role code (R followed by four or five digits)", jr)
				continue
			}
			if contains(jobRoles, jr) {
				c.add(rp.with("job_roles", j), "job role %s is listed twice", jr)
				continue
			}
			jobRoles = append(jobRoles, jr)
		}
		acts := c.activityList(rp.with("activities"), rs.Activities)
		var levels uint64
		if len(rs.AccessLevels) == 0 {
			c.add(rp.with("access_levels"), "role %s grants no access level", rs.ID)
		}
		for j, lid := range rs.AccessLevels {
			li, ok := p.levelIndex[lid]
			if !ok {
				c.add(rp.with("access_levels", j), "unknown access level %q", lid)
				continue
			}
			levels |= 1 << uint(li)
		}
		p.roles++
		switch {
		case len(acts) == 0:
			for _, jr := range jobRoles {
				p.jobRoleLevels[jobRoleKey(jr)] |= levels
			}
		case len(jobRoles) == 0:
			for _, a := range satisfiers(acts, closure) {
				p.grant(a).levels |= levels
			}
		default:
			for _, a := range satisfiers(acts, closure) {
				g := p.grant(a)
				if g.byJobRole == nil {
					g.byJobRole = make(map[uint32]uint64)
				}
				for _, jr := range jobRoles {
					g.byJobRole[jobRoleKey(jr)] |= levels
				}
			}
		}
	}
	for i, cat := range p.categories {
		for _, a := range satisfiers(cat.requires, closure) {
			p.grant(a).cats |= 1 << uint(i)
		}
	}
}

// relationships reads the accepted kinds of legitimate relationship.
func (c *checker) relationships(p *Policy, f *policyFile, closure map[string][]string) {
	if len(f.Relationships) == 0 {
		c.add(path{"relationships"}, "a policy needs at least one kind of legitimate relationship")
	}
	for i, rs := range f.Relationships {
		rp := path{"relationships", i}
		kind, err := shcrkit.ParseRelationshipKind(rs.Kind)
		if err != nil {
			c.add(rp.with("kind"), "unknown relationship kind %q (want registered, referral, encounter, care-team, self-claimed or emergency)", rs.Kind)
			continue
		}
		if p.rel[kind].accepted {
			c.add(rp.with("kind"), "relationship %s is defined twice", kind)
			continue
		}
		rule := "relationships/" + kind.String()
		rr := relRule{accepted: true, kind: kind, description: rs.Description, rule: rule,
			requiresReason: rs.RequiresReason, requiresEvidence: rs.RequiresEvidence}
		rr.purposes = c.purposes(rp.with("purposes"), rs.Purposes)
		rr.acts = c.activityList(rp.with("requires_activities"), rs.RequiresActivities)
		for _, a := range satisfiers(rr.acts, closure) {
			p.grant(a).kinds |= 1 << kind
		}
		rr.obligations = c.obligations(rp.with("obligations"), rs.Obligations, rule)
		rr.verify = c.verificationSetting(rp.with("verification"), kind, rs.Verification)
		if kind == shcrkit.RelationshipSelfClaimed || kind == shcrkit.RelationshipEmergency {
			// Practice on Spine: both need a recorded reason and alert the
			// organisation's Privacy Officer.
			if !rs.RequiresReason {
				c.add(rp.with("requires_reason"), "%s relationship must require a recorded reason", withArticle(kind.String()))
			}
			if rr.obligations == nil || rr.obligations.alert == "" {
				c.add(rp.with("obligations"), "%s relationship must alert the Privacy Officer (obligations.alert_privacy_officer)", withArticle(kind.String()))
			}
		}
		p.rel[kind] = rr
	}
}

// confidentiality reads the rules for restricted and very restricted
// patients. An absent rule refuses access at that level.
func (c *checker) confidentiality(p *Policy, f *policyFile, closure map[string][]string) {
	specs := [numConfidentiality]*confRuleSpec{nil, f.Confidentiality.Restricted, f.Confidentiality.VeryRestricted}
	keys := [numConfidentiality]string{"", "restricted", "very_restricted"}
	for lvl := shcrkit.ConfidentialityRestricted; lvl <= shcrkit.ConfidentialityVeryRestricted; lvl++ {
		s := specs[lvl]
		rule := "confidentiality/" + keys[lvl]
		cr := confRule{rule: rule}
		if s != nil {
			cp := path{"confidentiality", keys[lvl]}
			cr.allowed = s.Allowed
			for j, ks := range s.Relationships {
				kind, err := shcrkit.ParseRelationshipKind(ks)
				if err != nil {
					c.add(cp.with("relationships", j), "unknown relationship kind %q", ks)
					continue
				}
				if !p.rel[kind].accepted {
					c.add(cp.with("relationships", j), "relationship %s is not among the accepted relationships", kind)
				}
				cr.kinds |= 1 << kind
			}
			cr.acts = c.activityList(cp.with("requires_activities"), s.RequiresActivities)
			for _, a := range satisfiers(cr.acts, closure) {
				p.grant(a).conf |= 1 << lvl
			}
			cr.obligations = c.obligations(cp.with("obligations"), s.Obligations, rule)
			if !s.Allowed && (len(s.Relationships) > 0 || len(s.RequiresActivities) > 0 || s.Obligations != nil) {
				c.add(cp.with("allowed"), "%s access is not allowed, so its other settings would never apply", keys[lvl])
			}
		}
		p.conf[lvl] = cr
	}
}

func (c *checker) breakGlass(p *Policy, f *policyFile) {
	bg := f.BreakGlass
	p.bg = breakGlass{overridesDissent: bg.OverridesDissent, overridesAgreement: bg.OverridesMissingAgreement}
	p.bg.obligations = c.obligations(path{"break_glass", "obligations"}, bg.Obligations, "break_glass")
	if (bg.OverridesDissent || bg.OverridesMissingAgreement) && !p.rel[shcrkit.RelationshipEmergency].accepted {
		c.add(path{"break_glass"}, "break-glass overrides are set but no emergency relationship is accepted")
	}
}

// agreements reads the information sharing agreements and checks their
// parties, scope, sign-off and dates: two agreements between the same
// shared care records may not be in force at once. Agreements that have
// ended or not begun are kept, inactive.
func (c *checker) agreements(p *Policy, f *policyFile) {
	if len(f.Agreements) > maxAgreements {
		c.add(path{"agreements"}, "at most %d agreements, got %d", maxAgreements, len(f.Agreements))
		return
	}
	ids := make(map[string]bool)
	byRemote := make(map[int32][]int)
	for i, as := range f.Agreements {
		ap := path{"agreements", i}
		if strings.TrimSpace(as.ID) == "" || strings.ContainsAny(as.ID, " \t\n/") {
			c.add(ap.with("id"), "agreement id %q must be non-empty, without spaces or slashes", as.ID)
		} else if ids[as.ID] {
			c.add(ap.with("id"), "agreement %s is defined twice", as.ID)
		}
		ids[as.ID] = true
		a := agreement{id: as.ID, title: as.Title, reference: as.Reference, retired: as.Retired,
			validFrom: as.ValidFrom, validTo: as.ValidTo, version: as.Version, reviewDate: as.ReviewDate}
		c.signOff(p, ap, as, &a)
		if strings.TrimSpace(as.Title) == "" {
			c.add(ap.with("title"), "agreement %s needs a title", as.ID)
		}
		remotes := c.agreementParties(p, ap, as, &a)
		a.purposes = c.purposes(ap.with("purposes"), as.Purposes)
		if len(as.Categories) == 0 {
			c.add(ap.with("categories"), "agreement %s covers no data category", as.ID)
		}
		a.cats, a.categories = c.categoryList(p, ap.with("categories"), as.Categories)
		c.agreementDates(p, ap, as, &a)
		idx := len(p.agreements)
		p.agreements = append(p.agreements, a)
		if as.Retired {
			continue
		}
		for _, r := range remotes {
			p.remotes[r].agreements = append(p.remotes[r].agreements, idx)
			byRemote[r] = append(byRemote[r], idx)
		}
	}
	c.agreementOverlaps(p, byRemote)
}

// agreementParties reads an agreement's parties, which must be the local
// shared care record and remote ones, and returns the remotes' indexes.
func (c *checker) agreementParties(p *Policy, ap path, as agreementSpec, a *agreement) []int32 {
	hasLocal := false
	var remotes []int32
	if len(as.Parties) < 2 {
		c.add(ap.with("parties"), "agreement %s needs at least two parties", as.ID)
	}
	for j, ps := range as.Parties {
		code := shcrkit.ODSCode(ps)
		if contains(partyStrings(a.parties), ps) {
			c.add(ap.with("parties", j), "party %s is listed twice", ps)
			continue
		}
		a.parties = append(a.parties, code)
		switch idx, ok := p.custodians[code]; {
		case code == p.local && p.local != "":
			hasLocal = true
		case ok && idx >= 0 && p.remotes[idx].ods == code:
			remotes = append(remotes, idx)
		case ok:
			c.add(ap.with("parties", j), "party %s is a member organisation; parties are shared care records (name %s)", ps, p.shcrOf(idx))
		default:
			c.add(ap.with("parties", j), "party %q is not the local shared care record nor one named under remote_shcrs", ps)
		}
	}
	if !hasLocal && len(as.Parties) > 0 {
		c.add(ap.with("parties"), "agreement %s does not include the local shared care record %s", as.ID, p.local)
	}
	return remotes
}

// agreementDates reads an agreement's first and last day in force.
func (c *checker) agreementDates(p *Policy, ap path, as agreementSpec, a *agreement) {
	from, errFrom := time.ParseInLocation(time.DateOnly, as.ValidFrom, p.loc)
	if errFrom != nil {
		c.add(ap.with("valid_from"), "valid_from %q is not a date (YYYY-MM-DD)", as.ValidFrom)
	}
	to, errTo := time.ParseInLocation(time.DateOnly, as.ValidTo, p.loc)
	if errTo != nil {
		c.add(ap.with("valid_to"), "valid_to %q is not a date (YYYY-MM-DD)", as.ValidTo)
	}
	if errFrom != nil || errTo != nil {
		return
	}
	// valid_to is the last day in force: the agreement ends at the
	// following midnight, local time.
	a.from, a.to = from, time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, p.loc)
	// An agreement that has ended or not yet begun still loads: it is
	// inactive, and decisions against it say so. One lapsed agreement must
	// not take every other one down with it.
	if to.Before(from) {
		c.add(ap.with("valid_to"), "agreement %s ends (%s) before it starts (%s)", as.ID, as.ValidTo, as.ValidFrom)
	}
}

// agreementOverlaps orders each remote's agreements by start and refuses
// two between the same shared care records in force at once.
func (c *checker) agreementOverlaps(p *Policy, byRemote map[int32][]int) {
	for r, list := range byRemote {
		sort.Slice(list, func(i, j int) bool { return p.agreements[list[i]].from.Before(p.agreements[list[j]].from) })
		for k := 1; k < len(list); k++ {
			prev, cur := &p.agreements[list[k-1]], &p.agreements[list[k]]
			if prev.from.IsZero() || cur.from.IsZero() {
				continue
			}
			if cur.from.Before(prev.to) {
				c.add(path{"agreements", list[k]}, "agreements %s and %s between %s and %s overlap (%s to %s and %s to %s)",
					prev.id, cur.id, p.local, p.remotes[r].ods, prev.validFrom, prev.validTo, cur.validFrom, cur.validTo)
			}
		}
		p.remotes[r].agreements = list
	}
}

func partyStrings(codes []shcrkit.ODSCode) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = string(c)
	}
	return out
}

func (c *checker) recordOfProcessing(f *policyFile) {
	rp := path{"record_of_processing"}
	r := f.RecordOfProcessing
	if strings.TrimSpace(r.Controller.Name) == "" {
		c.add(rp.with("controller", "name"), "the record of processing needs the controller's name")
	}
	if r.Controller.ODS != "" {
		if _, err := shcrkit.ParseODSCode(r.Controller.ODS); err != nil {
			c.add(rp.with("controller", "ods"), "%q is not an ODS code", r.Controller.ODS)
		}
	}
	for i, lb := range r.LawfulBases {
		if strings.TrimSpace(lb.Article) == "" || strings.TrimSpace(lb.Description) == "" {
			c.add(rp.with("lawful_bases", i), "a lawful basis needs an article and a description")
		}
	}
}

// purposes reads a non-empty list of purposes of use into a bit set.
func (c *checker) purposes(at path, list []string) uint8 {
	if len(list) == 0 {
		c.add(at, "at least one purpose of use is required (TREAT, ETREAT, BTG)")
	}
	var set uint8
	for j, s := range list {
		pur, err := shcrkit.ParsePurpose(s)
		if err != nil {
			c.add(at.with(j), "unknown purpose %q (want TREAT, ETREAT or BTG)", s)
			continue
		}
		if set&(1<<pur) != 0 {
			c.add(at.with(j), "purpose %s is listed twice", pur)
		}
		set |= 1 << pur
	}
	return set
}

// categoryList reads a list of category IDs into a bit set, and returns
// the known ones in order; each unknown ID is reported.
func (c *checker) categoryList(p *Policy, at path, ids []string) (uint64, []string) {
	var set uint64
	var known []string
	for j, cid := range ids {
		ci, ok := p.categoryIndex[cid]
		if !ok {
			c.add(at.with(j), "unknown category %q", cid)
			continue
		}
		set |= 1 << uint(ci)
		known = append(known, cid)
	}
	return set, known
}

// activityList validates a list of activity codes.
func (c *checker) activityList(at path, list []string) []string {
	var out []string
	for j, a := range list {
		if !validActivity(a) {
			c.add(at.with(j), "%q is not an activity code (B followed by four digits)", a)
			continue
		}
		if contains(out, a) {
			c.add(at.with(j), "activity %s is listed twice", a)
			continue
		}
		out = append(out, a)
	}
	return out
}

// obligations compiles an obligations block; nil when there is none.
func (c *checker) obligations(at path, s *obligationsSpec, rule string) *obligationSet {
	if s == nil {
		return nil
	}
	o := &obligationSet{alert: s.AlertPrivacyOfficer, audit: s.EnhancedAudit, rule: rule}
	if s.AlertPrivacyOfficer != "" && !validActivity(s.AlertPrivacyOfficer) {
		c.add(at.with("alert_privacy_officer"), "%q is not an activity code such as B0016 or B0015", s.AlertPrivacyOfficer)
	}
	for j, field := range s.Redact {
		if !validID(field) {
			c.add(at.with("redact", j), "field %q must be lower-case letters, digits and hyphens", field)
			continue
		}
		if contains(o.redact, field) {
			c.add(at.with("redact", j), "field %s is listed twice", field)
			continue
		}
		o.redact = append(o.redact, field)
	}
	if s.TimeBox != "" {
		d, err := time.ParseDuration(s.TimeBox)
		switch {
		case err != nil:
			c.add(at.with("time_box"), "time_box %q is not a duration such as 8h or 30m", s.TimeBox)
		case d <= 0:
			c.add(at.with("time_box"), "time_box must be positive")
		default:
			o.timeBox = d
		}
	}
	o.nonEmpty = o.alert != "" || o.audit || len(o.redact) > 0 || o.timeBox > 0
	if !o.nonEmpty {
		return nil
	}
	return o
}

// validID accepts identifiers such as "care-plans": lower-case ASCII
// letters, digits and hyphens, starting with a letter or digit.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// validJobRole accepts national RBAC job role codes: R and four or five
// digits (R8000, R0260).
func validJobRole(s string) bool {
	return (len(s) == 5 || len(s) == 6) && s[0] == 'R' && allDigits(s[1:])
}

// validActivity accepts national RBAC activity codes: B and four digits.
func validActivity(s string) bool {
	return len(s) == 5 && s[0] == 'B' && allDigits(s[1:])
}

// validSNOMED accepts a SNOMED CT concept identifier: 6 to 18 digits, no
// leading zero, and the partition of a concept ("00" in the international
// release, "10" in an extension) in the two digits before the check digit,
// which rejects description and relationship identifiers.
func validSNOMED(s string) bool {
	if len(s) < 6 || len(s) > 18 || s[0] == '0' || !allDigits(s) {
		return false
	}
	part := s[len(s)-3 : len(s)-1]
	return part == "00" || part == "10"
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
