package rbac_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shcrkit/shcrkit/internal/conformance"

	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceDir returns the shared conformance material, skipping
// the test when it is absent.
func conformanceDir(t *testing.T) string { return conformance.Dir(t, "") }

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
	p := samplepolicy.Load()
	checked := 0
	for _, inc := range vs.Compose.Include {
		if inc.System != "http://snomed.info/sct" {
			continue
		}
		for _, c := range inc.Concept {
			if !isDigits(c.Code) {
				continue // local codes that are not SNOMED CT concepts
			}
			_, ok := categoryOf(p, c.Code)
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
