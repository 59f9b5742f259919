package pds_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
)

// TestConformancePatientViewComplete gets every published Patient (and
// every Patient of every published search Bundle) through the client and
// checks every list the view exposes, item by item, against the raw JSON.
func TestConformancePatientViewComplete(t *testing.T) {
	root := conformanceDir(t)
	var pats []map[string]any
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var raw map[string]any
		if json.Unmarshal(b, &raw) != nil {
			return nil
		}
		switch str(raw["resourceType"]) {
		case "Patient":
			if !strings.Contains(path, "PatientCreate") {
				pats = append(pats, raw)
			}
		case "Bundle":
			for _, e := range list(raw["entry"]) {
				if r := obj(obj(e)["resource"]); str(r["resourceType"]) == "Patient" {
					pats = append(pats, r)
				}
			}
		}
		return nil
	}))
	require.NotEmpty(t, pats)
	for _, raw := range pats {
		id := str(raw["id"])
		if !shcrkit.NHSNumber(id).Valid() {
			continue
		}
		t.Run(id, func(t *testing.T) {
			body, err := json.Marshal(raw)
			require.NoError(t, err)
			f := newFixture(t, reply(http.StatusOK, string(body), "ETag", `W/"41"`))
			p, err := f.client(t).Get(context.Background(), shcrkit.NHSNumber(id))
			require.NoError(t, err)
			assert.Equal(t, "41", p.Version(), "the ETag gives the version")
			assert.Empty(t, p.Superseded())
			checkPatientView(t, p, raw)

			names := p.Names()
			require.Len(t, names, len(list(raw["name"])))
			for i, n := range list(raw["name"]) {
				n := obj(n)
				assert.Equal(t, pds.Name{ID: str(n["id"]), Use: str(n["use"]), Prefix: strs(n["prefix"]),
					Given: strs(n["given"]), Family: str(n["family"]), Suffix: strs(n["suffix"])}, names[i])
			}
			addrs := p.Addresses()
			require.Len(t, addrs, len(list(raw["address"])))
			for i, a := range list(raw["address"]) {
				a := obj(a)
				assert.Equal(t, pds.Address{ID: str(a["id"]), Use: str(a["use"]), Text: str(a["text"]),
					Lines: strs(a["line"]), PostalCode: str(a["postalCode"])}, addrs[i])
			}
			tel := p.Telecom()
			require.Len(t, tel, len(list(raw["telecom"])))
			for i, c := range list(raw["telecom"]) {
				c := obj(c)
				assert.Equal(t, pds.ContactPoint{ID: str(c["id"]), System: str(c["system"]), Use: str(c["use"]),
					Value: str(c["value"])}, tel[i])
			}
		})
	}
}

// TestConformanceRelatedPersonViewComplete reads every published
// RelatedPerson Bundle and checks Active and Telecom as well.
func TestConformanceRelatedPersonViewComplete(t *testing.T) {
	root := conformanceDir(t)
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var raw map[string]any
		if json.Unmarshal(b, &raw) != nil || str(raw["resourceType"]) != "Bundle" || bundleOf(raw) != "RelatedPerson" {
			return nil
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			f := newFixture(t, reply(http.StatusOK, string(b)))
			rs, err := f.client(t).RelatedPersons(context.Background(), "9000000009")
			require.NoError(t, err)
			for i, e := range list(raw["entry"]) {
				res := obj(obj(e)["resource"])
				active, has := res["active"].(bool)
				assert.Equal(t, !has || active, rs[i].Active())
				tel := rs[i].Telecom()
				require.Len(t, tel, len(list(res["telecom"])))
				for j, c := range list(res["telecom"]) {
					c := obj(c)
					assert.Equal(t, pds.ContactPoint{ID: str(c["id"]), System: str(c["system"]), Use: str(c["use"]),
						Value: str(c["value"])}, tel[j])
				}
			}
		})
		return nil
	}))
}
