package rbac

import (
	"errors"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// ErrInvalidPolicy is matched (with errors.Is) by every error LoadPolicy
// returns for a policy that cannot be read or does not validate.
var ErrInvalidPolicy = errors.New("rbac: invalid policy")

// ErrDenied is matched by the error of a refused Decision (Decision.Err).
// Such an error matches shcrkit.ErrForbidden too.
var ErrDenied = errors.New("rbac: access denied")

// PolicyError is one problem found in a policy file, located by line and
// by its path in the document (e.g. "roles[2].job_roles[0]").
type PolicyError struct {
	// Line is the 1-based line of the offending node, or 0 when unknown.
	Line int
	// Path is the node's path in the document, or "" for the whole file.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as "rbac: policy line 12 (roles[2]): ...".
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("rbac: policy")
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Path != "" {
		b.WriteString(" (" + e.Path + ")")
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes every PolicyError match ErrInvalidPolicy.
func (e *PolicyError) Is(target error) bool { return target == ErrInvalidPolicy }

// deniedError is the error form of a refused Decision. Its text lists the
// decision's reasons, which never contain a patient identifier.
type deniedError struct {
	rule    string
	reasons []string
}

func (e *deniedError) Error() string {
	return "rbac: access denied by " + e.rule + ": " + strings.Join(e.reasons, "; ")
}

// Is matches ErrDenied and shcrkit.ErrForbidden.
func (e *deniedError) Is(target error) bool {
	return target == ErrDenied || target == shcrkit.ErrForbidden
}
