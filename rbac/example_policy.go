package rbac

import (
	"bytes"
	_ "embed"
	"time"
)

//go:embed example_policy.yaml
var examplePolicyYAML []byte

// exampleAsOf is the day the example policy is loaded as of, so that it
// loads the same way whatever the date.
var exampleAsOf = time.Date(2026, time.June, 1, 12, 0, 0, 0, time.UTC)

// ExamplePolicyYAML returns the text of the example policy: the North
// Riverside Shared Care Record (QRX, invented), its members, three remote
// shared care records and their agreements, the NRL record types in data
// categories, and typical roles. It is a starting point for a real policy
// and the policy the bundled fakes and examples use.
func ExamplePolicyYAML() []byte { return bytes.Clone(examplePolicyYAML) }

// ExamplePolicy returns the example policy, loaded as of 1 June 2026 (so
// that it loads whatever the date; decisions still use each request's
// time). It panics only if the embedded file is broken, which the
// package's tests rule out.
func ExamplePolicy() *Policy {
	p, err := LoadPolicyAt(bytes.NewReader(examplePolicyYAML), exampleAsOf)
	if err != nil {
		panic("rbac: embedded example policy does not load: " + err.Error())
	}
	return p
}
