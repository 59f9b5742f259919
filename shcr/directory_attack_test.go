package shcr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDirectoryAttacks(t *testing.T) {
	bomb := "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		n := string(rune('b' + i))
		bomb += n + ": &" + n + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n"
		prev = n
	}
	bombEP := "endpoints:\n  - custodians: &c [RN1]\n    baseUrl: https://n.example\n    contentHosts: &h [https://a.example, https://b.example]\n"
	// billion laughs inside known fields
	laughs := "x0: &l0 [https://a.example, https://a.example, https://a.example, https://a.example, https://a.example, https://a.example, https://a.example, https://a.example, https://a.example, https://a.example]\n"
	_ = laughs
	tests := []struct {
		name, format, text string
	}{
		{"dup custodian across endpoints", "yaml", "endpoints:\n  - {name: A, custodians: [RN1], baseUrl: https://a.example}\n  - {name: B, custodians: [rn1], baseUrl: https://b.example}\n"},
		{"dup custodian within endpoint", "yaml", "endpoints:\n  - {name: A, custodians: [RN1, rn1], baseUrl: https://a.example}\n"},
		{"dup custodian JSON", "json", `{"endpoints":[{"name":"A","custodians":["RN1"],"baseUrl":"https://a.example"},{"name":"B","custodians":[" RN1 "],"baseUrl":"https://b.example"}]}`},
		{"dup key YAML", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example\n    baseUrl: https://evil.example\n"},
		{"dup key JSON", "json", `{"endpoints":[{"custodians":["RN1"],"baseUrl":"https://a.example","baseUrl":"https://evil.example"}]}`},
		{"dup top-level key JSON", "json", `{"endpoints":[{"custodians":["RN1"],"baseUrl":"https://a.example"}],"endpoints":[{"custodians":["RN1"],"baseUrl":"https://evil.example"}]}`},
		{"case-variant key JSON", "json", `{"endpoints":[{"custodians":["RN1"],"baseUrl":"https://a.example","BASEURL":"https://evil.example"}]}`},
		{"trailing JSON", "json", `{"endpoints":[{"custodians":["RN1"],"baseUrl":"https://a.example"}]} {"endpoints":[]}`},
		{"trailing JSON garbage", "json", `{"endpoints":[{"custodians":["RN1"],"baseUrl":"https://a.example"}]} garbage`},
		{"second YAML doc", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example\n---\nendpoints:\n  - custodians: [RN2]\n    baseUrl: https://b.example\n"},
		{"userinfo", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://u:p@a.example\n"},
		{"query", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example/?x=1\n"},
		{"force query", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example/fhir?\n"},
		{"fragment", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example/#f\n"},
		{"ftp", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: ftp://a.example/\n"},
		{"content host userinfo", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example/\n    contentHosts: ['https://x@b.example']\n"},
		{"content host javascript", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example/\n    contentHosts: ['javascript:alert(1)']\n"},
		{"audit url query", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example/\n    auditUrl: https://a.example/audit?x\n"},
		{"ssp userinfo", "yaml", "ssp: {proxyUrl: 'https://u@proxy.example', consumerAsid: '200000000101'}\nendpoints: []\n"},
		{"billion laughs", "yaml", bomb + bombEP},
		{"no custodians", "yaml", "endpoints:\n  - baseUrl: https://a.example/\n"},
		{"empty host port", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: 'https://:443/'\n"},
		{"bad port", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: 'https://a.example:99999/'\n"},
		{"newline in name", "yaml", "endpoints:\n  - name: \"A\\nB\"\n    custodians: [RN1]\n    baseUrl: https://a.example/\n"},
		{"negative timeout", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://a.example/\n    timeout: -1s\n"},
		{"nul in base", "json", `{"endpoints":[{"custodians":["RN1"],"baseUrl":"https://a.example/\u0000x"}]}`},
		{"null endpoint", "json", `{"endpoints":[null]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			d, err := shcr.ParseDirectory(strings.NewReader(tt.text), tt.format, t.TempDir())
			t.Logf("took %v err=%v", time.Since(start), err)
			if err == nil {
				for _, e := range d.Endpoints() {
					t.Logf("endpoint %q %v %q %q", e.Name, e.Custodians, e.BaseURL, e.ContentHosts)
				}
			}
			assert.ErrorIs(t, err, shcr.ErrInvalidDirectory)
		})
	}
}

func TestDirectoryHugeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("endpoints:\n")
	for b.Len() < 5<<20 {
		b.WriteString("  - {custodians: [RN1], baseUrl: https://a.example}\n")
	}
	_, err := shcr.ParseDirectory(strings.NewReader(b.String()), "yaml", "")
	require.ErrorIs(t, err, shcr.ErrInvalidDirectory)
}
