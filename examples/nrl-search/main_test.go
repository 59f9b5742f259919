package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"testing"

	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSearch(t *testing.T) {
	srv := nrlstest.NewServer()
	defer srv.Close()
	ods := string(nrlstest.ConsumerODS)
	base := []string{"-base", (srv.URL + nrls.ConsumerPath), "-ods", ods}
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "table", args: []string{pdstest.Patients.Normal.String()}, want: []string{"ID", "CUSTODIAN", string(nrlstest.CustodianNorth)}},
		{name: "via GET", args: []string{"-via-get", pdstest.Patients.Normal.String()}, want: []string{"CUSTODIAN"}},
		{name: "custodian", args: []string{"-custodian", string(nrlstest.CustodianNorth), pdstest.Patients.Normal.String()}, want: []string{string(nrlstest.CustodianNorth)}},
		{name: "no pointers", args: []string{pdstest.Patients.Minimal.String()}, want: []string{"no pointers"}},
		{name: "count", args: []string{"-count", pdstest.Patients.Minimal.String()}, want: []string{"0\n"}},
		{name: "missing ODS", args: []string{"-ods", "", pdstest.Patients.Normal.String()}, wantErr: "-ods is required"},
		{name: "help", args: []string{"-h"}, wantErr: flag.ErrHelp.Error()},
		{name: "bad NHS number", args: []string{"9434765918"}, wantErr: "invalid NHS number"},
		{name: "unknown pointer", args: []string{"-get", "RNR-does-not-exist"}, wantErr: "NO_RECORD_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append(append([]string{}, base...), tt.args...), &out, &errOut)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err, errOut.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestSearchJSONAndGet(t *testing.T) {
	srv := nrlstest.NewServer()
	defer srv.Close()
	base := []string{"-base", (srv.URL + nrls.ConsumerPath), "-ods", string(nrlstest.ConsumerODS), "-json"}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), append(base, pdstest.Patients.Normal.String()), &out, &out))
	var res struct {
		Pointers []struct {
			ID        string `json:"id"`
			NHSNumber string `json:"nhsNumber"`
		} `json:"pointers"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.NotEmpty(t, res.Pointers)
	for _, p := range res.Pointers {
		assert.Equal(t, pdstest.Patients.Normal.String(), p.NHSNumber)
	}

	out.Reset()
	require.NoError(t, run(context.Background(), append(base, "-get", res.Pointers[0].ID), &out, &out))
	assert.Contains(t, out.String(), res.Pointers[0].ID)
}

// TestWrongBaseURLIsAnError checks that a base URL that is not the
// consumer API fails loudly instead of reporting that the patient has no
// records.
func TestWrongBaseURLIsAnError(t *testing.T) {
	srv := nrlstest.NewServer()
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-base", srv.URL, "-ods", string(nrlstest.ConsumerODS), pdstest.Patients.Normal.String()}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RESOURCE_NOT_FOUND")
}
