package rbac_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/rbac/report"
)

// FuzzLoadPolicy checks that no input makes LoadPolicy panic, that every
// failure is a policy error, and that a policy that loads can decide and
// describe itself. The seeds are whole policies, which take the fuzzer long
// to minimise: run it with a short -fuzzminimizetime, e.g.
//
//	go test ./rbac -run '^$' -fuzz FuzzLoadPolicy -fuzztime 2m -fuzzminimizetime 2s
func FuzzLoadPolicy(f *testing.F) {
	example := string(samplepolicy.YAML())
	seeds := []string{
		example,
		smallPolicy,
		example[:len(example)/2],
		strings.Replace(smallPolicy, "version: 1", "version: [1", 1),
		strings.Replace(smallPolicy, "  shcr: QAA", "\tshcr: QAA", 1),
		strings.Replace(smallPolicy, "job_roles: [R8000]", "job_roles: &r [R8000]\n    activities: *r", 1),
		strings.Replace(smallPolicy, "valid_to: 2026-12-31", "valid_to: 99999-12-31", 1),
		strings.Replace(smallPolicy, "categories: [demographics]", "categories: {demographics: 1}", 1),
		strings.Replace(smallPolicy, "time_box", "time_box", 1) + "---\n",
		"a: &a [*a]\n",
		"version: 1\nroles: [{id: x, job_roles: [R1], access_levels: [y]}]\n",
		"!!binary AAAA",
		"\x00\xff",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := rbac.LoadPolicy(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, rbac.ErrInvalidPolicy) {
				t.Fatalf("error does not match ErrInvalidPolicy: %v", err)
			}
			return
		}
		req := baseRequest()
		_ = p.Decide(req)
		for _, c := range p.Categories() {
			for _, rt := range c.RecordTypes {
				req.Custodian, req.RecordType = "QRX", rt.Code
				_ = p.Decide(req)
			}
		}
		r := report.NewROPA(p)
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("ROPA JSON: %v", err)
		}
		_ = r.Markdown()
	})
}

// FuzzRequesterFromCIS2 checks that no userinfo makes RequesterFromCIS2
// panic and that what it accepts is well formed.
func FuzzRequesterFromCIS2(f *testing.F) {
	f.Add([]byte(userinfo), "910000000201")
	f.Add([]byte(userinfo), "")
	f.Add([]byte(`{"sub": 1, "nhsid_nrbac_roles": [{"person_roleid": 2, "role_code": "R1", "org_code": "ABC"}]}`), "")
	f.Add([]byte(`{"authentication_assurance_level": "AAL"}`), "x")
	f.Add([]byte(`null`), "")
	f.Fuzz(func(t *testing.T, data []byte, selected string) {
		r, err := rbac.RequesterFromCIS2(data, selected)
		if err != nil {
			if !errors.Is(err, rbac.ErrInvalidUserInfo) && !errors.Is(err, rbac.ErrUnknownRole) && !errors.Is(err, rbac.ErrRoleNotSelected) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if r.UserID == "" || r.RoleProfileID == "" || r.JobRole() == "" || !r.Organisation.Valid() {
			t.Fatalf("accepted an incomplete requester: %+v", r)
		}
	})
}
