// Package samplepolicy holds the sample access policy that the tests and
// examples of the module decide against: the North Riverside Shared Care
// Record (QRX, invented), its members, three remote shared care records
// and their agreements, the NRL record types in data categories, and
// typical roles. policy.yaml beside this file is also a commented
// starting point for a real policy.
package samplepolicy

import (
	"bytes"
	_ "embed"

	"github.com/shcrkit/shcrkit/rbac"
)

//go:embed policy.yaml
var policyYAML []byte

//go:embed world.yaml
var worldYAML []byte

// WorldYAML returns a copy of the text of the fake world's access policy
// (shcrtest.World.Policy): the Riverside Urgent Care Record (QRU) with the
// emergency department nrlstest.ConsumerODS as a member, the five regional
// shared care records of the world as remote ones, and an agreement with
// each, of varying scope.
func WorldYAML() []byte { return bytes.Clone(worldYAML) }

// YAML returns a copy of the sample policy's text.
func YAML() []byte { return bytes.Clone(policyYAML) }

// Load returns the sample policy. It panics only if the embedded file is
// broken, which the package's test rules out.
func Load() *rbac.Policy {
	p, err := rbac.LoadPolicy(bytes.NewReader(policyYAML))
	if err != nil {
		panic("samplepolicy: the embedded policy does not load: " + err.Error())
	}
	return p
}
