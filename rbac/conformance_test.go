package rbac_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceDir finds the shared conformance material next to the
// module's root, or skips the test when it is not there.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	conf := filepath.Join(dir, "..", "shared", "conformance")
	if _, err := os.Stat(conf); err != nil {
		t.Skip("conformance material not present")
	}
	return conf
}

// TestExamplePolicyCoversNRLValueSet checks that every SNOMED CT record
// type of the published NRL record type value set has a category in the
// example policy, with the same code.
func TestExamplePolicyCoversNRLValueSet(t *testing.T) {
	path := filepath.Join(conformanceDir(t), "nrl", "NRLF-RecordType-ValueSet_2024.json")
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skip("record type value set not present")
	}
	require.NoError(t, err)
	var vs struct {
		Compose struct {
			Include []struct {
				System  string `json:"system"`
				Concept []struct {
					Code    string `json:"code"`
					Display string `json:"display"`
				} `json:"concept"`
			} `json:"include"`
		} `json:"compose"`
	}
	require.NoError(t, json.Unmarshal(data, &vs))
	p := rbac.ExamplePolicy()
	checked := 0
	for _, inc := range vs.Compose.Include {
		if inc.System != "http://snomed.info/sct" {
			continue
		}
		for _, c := range inc.Concept {
			if !isDigits(c.Code) {
				continue // local codes that are not SNOMED CT concepts
			}
			_, ok := p.CategoryOf(c.Code)
			assert.True(t, ok, "record type %s (%s) has no category", c.Code, c.Display)
			checked++
		}
	}
	assert.Positive(t, checked)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
