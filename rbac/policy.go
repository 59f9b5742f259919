package rbac

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shcrkit/shcrkit"
)

// Policy is a loaded, validated access-control policy. It is immutable and
// safe for concurrent use: build it once with LoadPolicy and share it.
type Policy struct {
	file *policyFile
	loc  *time.Location

	// sites are the sites (ODS codes) a local member lists: GP practices
	// of a primary care network, say, whose registered patients count as
	// the member's own.
	sites map[shcrkit.ODSCode][]shcrkit.ODSCode

	local     shcrkit.ODSCode
	localName string
	// custodians maps an organisation to -1 when it is the local shared
	// care record or one of its members (whose staff may use the policy and
	// whose records need no agreement), or to the index of its remote
	// shared care record.
	custodians map[shcrkit.ODSCode]int32
	remotes    []remoteShCR

	minAAL int

	categories    []category
	categoryIndex map[string]int
	typeCategory  map[string]int
	// freeCats are the categories that need no particular activity code.
	freeCats uint64

	levels     []accessLevel
	levelIndex map[string]int
	roles      int // role rules, for the security measures of the reports
	// jobRoleLevels are the access levels a job role grants on its own.
	jobRoleLevels map[uint32]uint64 // by jobRoleKey, exact: R8000 and R08000 differ
	// activities holds, for each activity code named in the policy, what
	// holding it grants, with included activities already folded in. It is
	// used while compiling; Decide looks codes up in actIndex, by number
	// (B0360 is 360), to spare a string hash per activity code.
	activities map[string]*activityGrant
	actIndex   [10000]uint16 // 1 + index into actGrants, or 0
	actGrants  []activityGrant

	rel  [numRelationshipKinds]relRule
	conf [numConfidentiality]confRule
	bg   breakGlass

	agreements []agreement
	adHoc      adHocRule

	// outcomes are the reasons and obligations of every allowed decision,
	// built at load time so that Decide does not allocate.
	outcomes map[uint64]*outcome
	intern   map[string]string
}

type remoteShCR struct {
	ods        shcrkit.ODSCode
	name       string
	agreements []int // indexes into Policy.agreements, not retired, by start date
}

type category struct {
	id          string
	description string
	recordTypes []RecordType
	requires    []string
	obligations *obligationSet
}

type accessLevel struct {
	id          string
	description string
	cats        uint64
}

type activityGrant struct {
	levels    uint64            // from roles that name only activities
	byJobRole map[uint32]uint64 // by jobRoleKey, from roles that name job roles and activities
	cats      uint64            // categories whose activity requirement it meets
	kinds     uint8             // relationship kinds whose requirement it meets
	conf      uint8             // confidentiality levels whose requirement it meets
}

type relRule struct {
	accepted         bool
	kind             shcrkit.RelationshipKind
	description      string
	rule             string
	purposes         uint8
	requiresReason   bool
	requiresEvidence bool
	acts             []string
	obligations      *obligationSet
	verify           verifySetting
}

type confRule struct {
	allowed     bool
	rule        string
	kinds       uint8 // accepted relationship kinds; 0 means all
	acts        []string
	obligations *obligationSet
}

type breakGlass struct {
	overridesDissent   bool
	overridesAgreement bool
	obligations        *obligationSet
}

type agreement struct {
	id, title, reference string
	parties              []shcrkit.ODSCode
	purposes             uint8
	cats                 uint64
	categories           []string
	validFrom, validTo   string
	from, to             time.Time // in force from <= t < to
	retired              bool

	version     string
	signatories []Signatory
	reviewDate  string
	review      time.Time // zero when no review date is given
	dspa        DSPA
}

// LoadPolicy reads and validates a YAML policy. Unknown keys, duplicate
// keys, malformed codes, references to unknown categories, access levels
// or relationship kinds and overlapping agreements are errors; all
// problems are returned at once, joined, each a *PolicyError with its line
// that matches ErrInvalidPolicy. An agreement that has ended or not yet
// begun is not an error: it loads inactive, and decisions that need it
// say so ("agreement ISA-… ended on 2030-12-31"), so that one lapsed
// agreement never stops the others serving.
func LoadPolicy(r io.Reader) (*Policy, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: no policy to read (nil reader)", ErrInvalidPolicy)
	}
	f, root, err := decodeFile(r)
	if err != nil {
		return nil, err
	}
	return compile(f, root)
}

// LoadPolicyFile reads and validates the YAML policy at path.
func LoadPolicyFile(path string) (*Policy, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	defer fh.Close()
	return LoadPolicy(fh)
}

// Name returns the policy's name.
func (p *Policy) Name() string { return p.file.Name }

// Local returns the ODS code of the local shared care record, whose
// members' records need no sharing agreement.
func (p *Policy) Local() shcrkit.ODSCode { return p.local }

// isMember reports whether org is the local shared care record or one of
// its members: the organisations whose staff this policy serves (ShCROf
// gives Local for them).
func (p *Policy) isMember(org shcrkit.ODSCode) bool {
	idx, ok := p.custodians[org]
	return ok && idx < 0
}

// ShCROf returns the shared care record a custodian belongs to (the local
// one, a remote one, or the custodian itself when it is a shared care
// record), and false when the policy does not name it. An organisation is
// a member of the local shared care record, whose staff the policy
// serves, when ShCROf gives Local.
func (p *Policy) ShCROf(custodian shcrkit.ODSCode) (shcrkit.ODSCode, bool) {
	idx, ok := p.custodians[custodian]
	if !ok {
		return "", false
	}
	return p.shcrOf(idx), true
}

func (p *Policy) shcrOf(idx int32) shcrkit.ODSCode {
	if idx < 0 {
		return p.local
	}
	return p.remotes[idx].ods
}

// RecordType is an NRL record type (a SNOMED CT concept) and the data
// category the policy puts it in.
type RecordType struct {
	// Code is the SNOMED CT concept ID, e.g. "736253002".
	Code string `json:"code"`
	// Display is its name, e.g. "Mental health crisis plan".
	Display string `json:"display"`
	// Category is the ID of the policy category that holds it.
	Category string `json:"category"`
}

// Category describes one data category of the policy.
type Category struct {
	// ID as used in the policy, e.g. "care-plans".
	ID string `json:"id"`
	// Description for people.
	Description string `json:"description,omitempty"`
	// RecordTypes in the category.
	RecordTypes []RecordType `json:"recordTypes,omitempty"`
	// RequiresActivities lists activity codes of which a requester must
	// hold one to see the category (e.g. B1611 for sensitive records).
	RequiresActivities []string `json:"requiresActivities,omitempty"`
}

// Categories returns the policy's data categories, in policy order, each
// with the NRL record types (SNOMED CT codes) it holds. A record type is
// in at most one category.
func (p *Policy) Categories() []Category {
	out := make([]Category, len(p.categories))
	for i, c := range p.categories {
		out[i] = Category{ID: c.id, Description: c.description,
			RecordTypes: append([]RecordType(nil), c.recordTypes...), RequiresActivities: append([]string(nil), c.requires...)}
	}
	return out
}

// VisibleCategories returns the IDs of the categories the requester's
// role and activity codes give access to, in policy order, before any
// relationship, confidentiality or agreement is considered.
func (p *Policy) VisibleCategories(r shcrkit.Requester) []string {
	g := p.grantsOf(&r)
	var out []string
	for i, c := range p.categories {
		if g.visible&(1<<uint(i)) != 0 {
			out = append(out, c.id)
		}
	}
	return out
}

// Agreement describes an information sharing agreement of the policy.
type Agreement struct {
	// ID of the agreement, e.g. "ISA-QRX-QEM-2025".
	ID string `json:"id"`
	// Title for people.
	Title string `json:"title"`
	// Reference to the signed document, when given.
	Reference string `json:"reference,omitempty"`
	// Parties are the ODS codes of the shared care records that signed.
	Parties []shcrkit.ODSCode `json:"parties"`
	// Purposes of use covered.
	Purposes []shcrkit.Purpose `json:"purposes"`
	// Categories of data in scope.
	Categories []string `json:"categories"`
	// ValidFrom is the first day in force (YYYY-MM-DD, policy time zone).
	ValidFrom string `json:"validFrom"`
	// ValidTo is the last day in force (YYYY-MM-DD, policy time zone).
	ValidTo string `json:"validTo"`
	// Retired agreements are kept for the record and never applied.
	Retired bool `json:"retired,omitempty"`
	// Version of the signed agreement, e.g. "2.1".
	Version string `json:"version,omitempty"`
	// Signatories signed the agreement off for their organisations.
	Signatories []Signatory `json:"signatories,omitempty"`
	// ReviewDate is when the agreement falls due for review (YYYY-MM-DD),
	// or "".
	ReviewDate string `json:"reviewDate,omitempty"`
	// DSPA is the joint data sharing and processing agreement this one
	// conforms to; zero when none is named.
	DSPA DSPA `json:"dspa,omitzero"`
}

// Agreements returns the policy's agreements, in policy order.
func (p *Policy) Agreements() []Agreement {
	out := make([]Agreement, len(p.agreements))
	for i := range p.agreements {
		out[i] = p.agreements[i].public()
	}
	return out
}

func (a *agreement) public() Agreement {
	return Agreement{ID: a.id, Title: a.title, Reference: a.reference,
		Parties: append([]shcrkit.ODSCode(nil), a.parties...), Purposes: purposeList(a.purposes),
		Categories: append([]string(nil), a.categories...), ValidFrom: a.validFrom, ValidTo: a.validTo, Retired: a.retired,
		Version: a.version, Signatories: append([]Signatory(nil), a.signatories...), ReviewDate: a.reviewDate, DSPA: a.dspa}
}

// agreementIn returns the index of the agreement with remote idx in force
// at t that covers a purpose and a category in the given sets, or -1.
func (p *Policy) agreementIn(idx int32, t time.Time, purposes uint8, cats uint64) int {
	for _, ai := range p.remotes[idx].agreements {
		a := &p.agreements[ai]
		if t.Before(a.from) || !t.Before(a.to) {
			continue
		}
		if a.purposes&purposes != 0 && a.cats&cats != 0 {
			return ai
		}
	}
	return -1
}

func purposeList(set uint8) []shcrkit.Purpose {
	var out []shcrkit.Purpose
	for pur := shcrkit.PurposeDirectCare; pur <= shcrkit.PurposeBreakGlass; pur++ {
		if set&(1<<pur) != 0 {
			out = append(out, pur)
		}
	}
	return out
}
