package rbac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit/rbac/internal/policyview"
	"go.yaml.in/yaml/v3"
)

// The YAML document, as an information-governance lead writes it. Field
// names are the policy's vocabulary; unknown keys are errors.
type policyFile struct {
	Version            int                           `yaml:"version"`
	Name               string                        `yaml:"name"`
	Description        string                        `yaml:"description"`
	Owner              string                        `yaml:"owner"`
	Approved           string                        `yaml:"approved"`
	Timezone           string                        `yaml:"timezone"`
	Local              localSpec                     `yaml:"local"`
	RemoteShCRs        []shcrSpec                    `yaml:"remote_shcrs"`
	Authentication     authSpec                      `yaml:"authentication"`
	Categories         []categorySpec                `yaml:"categories"`
	AccessLevels       []levelSpec                   `yaml:"access_levels"`
	Roles              []roleSpec                    `yaml:"roles"`
	ActivityIncludes   []includesSpec                `yaml:"activity_includes"`
	Relationships      []relationshipSpec            `yaml:"relationships"`
	Confidentiality    confSpec                      `yaml:"confidentiality"`
	BreakGlass         breakGlassSpec                `yaml:"break_glass"`
	Agreements         []agreementSpec               `yaml:"agreements"`
	AdHocSharing       *adHocSpec                    `yaml:"ad_hoc_sharing"`
	RecordOfProcessing policyview.RecordOfProcessing `yaml:"record_of_processing"`
}

type localSpec struct {
	ShCR    string       `yaml:"shcr"`
	Name    string       `yaml:"name"`
	Members []memberSpec `yaml:"members"`
}

type shcrSpec struct {
	ODS     string       `yaml:"ods"`
	Name    string       `yaml:"name"`
	Members []memberSpec `yaml:"members"`
}

type memberSpec struct {
	ODS   string   `yaml:"ods"`
	Name  string   `yaml:"name"`
	Sites []string `yaml:"sites"`
}

type authSpec struct {
	MinAssuranceLevel int `yaml:"min_assurance_level"`
}

type categorySpec struct {
	ID                 string           `yaml:"id"`
	Description        string           `yaml:"description"`
	RecordTypes        []recordTypeSpec `yaml:"record_types"`
	RequiresActivities []string         `yaml:"requires_activities"`
	Obligations        *obligationsSpec `yaml:"obligations"`
}

type recordTypeSpec struct {
	Code    string `yaml:"code"`
	Display string `yaml:"display"`
}

type levelSpec struct {
	ID          string   `yaml:"id"`
	Description string   `yaml:"description"`
	Categories  []string `yaml:"categories"`
}

type roleSpec struct {
	ID           string   `yaml:"id"`
	Description  string   `yaml:"description"`
	JobRoles     []string `yaml:"job_roles"`
	Activities   []string `yaml:"activities"`
	AccessLevels []string `yaml:"access_levels"`
}

type includesSpec struct {
	Activity string   `yaml:"activity"`
	Includes []string `yaml:"includes"`
}

type relationshipSpec struct {
	Kind               string           `yaml:"kind"`
	Description        string           `yaml:"description"`
	Purposes           []string         `yaml:"purposes"`
	RequiresReason     bool             `yaml:"requires_reason"`
	RequiresEvidence   bool             `yaml:"requires_evidence"`
	Verification       string           `yaml:"verification"`
	RequiresActivities []string         `yaml:"requires_activities"`
	Obligations        *obligationsSpec `yaml:"obligations"`
}

type confSpec struct {
	Restricted     *confRuleSpec `yaml:"restricted"`
	VeryRestricted *confRuleSpec `yaml:"very_restricted"`
}

type confRuleSpec struct {
	Allowed            bool             `yaml:"allowed"`
	Relationships      []string         `yaml:"relationships"`
	RequiresActivities []string         `yaml:"requires_activities"`
	Obligations        *obligationsSpec `yaml:"obligations"`
}

type breakGlassSpec struct {
	OverridesDissent          bool             `yaml:"overrides_dissent"`
	OverridesMissingAgreement bool             `yaml:"overrides_missing_agreement"`
	Obligations               *obligationsSpec `yaml:"obligations"`
}

type agreementSpec struct {
	ID         string   `yaml:"id"`
	Title      string   `yaml:"title"`
	Reference  string   `yaml:"reference"`
	Parties    []string `yaml:"parties"`
	Purposes   []string `yaml:"purposes"`
	Categories []string `yaml:"categories"`
	ValidFrom  string   `yaml:"valid_from"`
	ValidTo    string   `yaml:"valid_to"`
	Retired    bool     `yaml:"retired"`

	Version     string          `yaml:"version"`
	Signatories []signatorySpec `yaml:"signatories"`
	ReviewDate  string          `yaml:"review_date"`
	DSPA        *dspaSpec       `yaml:"dspa"`
}

type signatorySpec struct {
	Name         string `yaml:"name"`
	Role         string `yaml:"role"`
	Organisation string `yaml:"organisation"`
	Date         string `yaml:"date"`
}

type dspaSpec struct {
	Reference string `yaml:"reference"`
	Version   string `yaml:"version"`
}

type adHocSpec struct {
	Purposes    []string         `yaml:"purposes"`
	Obligations *obligationsSpec `yaml:"obligations"`
}

type obligationsSpec struct {
	AlertPrivacyOfficer string   `yaml:"alert_privacy_officer"`
	EnhancedAudit       bool     `yaml:"enhanced_audit"`
	Redact              []string `yaml:"redact"`
	TimeBox             string   `yaml:"time_box"`
}

// maxPolicyBytes caps what LoadPolicy reads: a policy is a reviewed
// document of a few hundred lines, not a data set.
const maxPolicyBytes = 4 << 20

// decodeFile reads the YAML strictly (unknown keys and duplicate keys are
// errors, each with its line) and keeps the node tree so that later checks
// can report lines too.
func decodeFile(r io.Reader) (*policyFile, *yaml.Node, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPolicyBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: reading: %w", ErrInvalidPolicy, err)
	}
	if len(data) > maxPolicyBytes {
		return nil, nil, &PolicyError{Msg: fmt.Sprintf("larger than %d bytes", maxPolicyBytes)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &PolicyError{Msg: "the policy is empty"}
	}
	var f policyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, nil, yamlError(err)
		}
		return nil, nil, &PolicyError{Line: extra.Line, Msg: "more than one YAML document: a policy is a single document"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, yamlError(err)
	}
	return &f, &root, nil
}

// yamlTypeNames turns the decoder's Go type names into the policy's words.
var yamlTypeNames = strings.NewReplacer(
	"rbac.policyFile", "the policy",
	"rbac.localSpec", "local",
	"rbac.shcrSpec", "a shared care record",
	"rbac.memberSpec", "a member organisation",
	"rbac.authSpec", "authentication",
	"rbac.categorySpec", "a category",
	"rbac.recordTypeSpec", "a record type",
	"rbac.levelSpec", "an access level",
	"rbac.roleSpec", "a role",
	"rbac.includesSpec", "an activity inclusion",
	"rbac.relationshipSpec", "a relationship",
	"rbac.confSpec", "confidentiality",
	"*rbac.confRuleSpec", "a confidentiality rule",
	"rbac.confRuleSpec", "a confidentiality rule",
	"rbac.breakGlassSpec", "break_glass",
	"rbac.agreementSpec", "an agreement",
	"rbac.signatorySpec", "a signatory",
	"*rbac.dspaSpec", "a data sharing and processing agreement",
	"rbac.dspaSpec", "a data sharing and processing agreement",
	"*rbac.adHocSpec", "ad_hoc_sharing",
	"rbac.adHocSpec", "ad_hoc_sharing",
	"*rbac.obligationsSpec", "obligations",
	"rbac.obligationsSpec", "obligations",
	"policyview.RecordOfProcessing", "record_of_processing",
	"policyview.Party", "a party",
	"policyview.LawfulBasis", "a lawful basis",
	"[]string", "a list",
	"[]rbac.", "a list of ",
)

// yamlError converts a decoder error into PolicyErrors, one per problem,
// keeping the decoder's line numbers.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, msg := range te.Errors {
			errs = append(errs, lineError(yamlTypeNames.Replace(msg)))
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return lineError(msg)
}

// lineError parses a leading "line N: " into a PolicyError's Line.
func lineError(msg string) *PolicyError {
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				return &PolicyError{Line: n, Msg: rest[i+2:]}
			}
		}
	}
	return &PolicyError{Msg: msg}
}

// path is a location in the document: mapping keys (string) and sequence
// indexes (int).
type path []any

func (p path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch v := e.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		}
	}
	return b.String()
}

// with returns p extended by more elements, without sharing p's array.
func (p path) with(more ...any) path {
	out := make(path, 0, len(p)+len(more))
	return append(append(out, p...), more...)
}

// lineOf finds the line of the node at p, or of its deepest ancestor that
// exists.
func lineOf(root *yaml.Node, p path) int {
	n := root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, e := range p {
		var next *yaml.Node
		switch v := e.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == v {
						next = n.Content[i+1]
						if len(next.Content) == 0 {
							// An empty collection has no line of its own
							// worth showing: point at its key.
							line = n.Content[i].Line
						}
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v >= 0 && v < len(n.Content) {
				next = n.Content[v]
			}
		}
		if next == nil {
			return line
		}
		n = next
		if n.Line > 0 && (n.Kind == yaml.ScalarNode || len(n.Content) > 0) {
			line = n.Line
		}
	}
	return line
}
