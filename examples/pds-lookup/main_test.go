package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookup(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "table", args: []string{pdstest.Patients.Normal.String()},
			want: []string{"NHS NUMBER", pdstest.Patients.Normal.Format(), "1.00"}},
		{name: "superseded", args: []string{pdstest.Patients.Superseded.String()},
			want: []string{pdstest.Patients.Surviving.Format() + " (asked " + pdstest.Patients.Superseded.Format() + ")"}},
		{name: "restricted", args: []string{pdstest.Patients.Restricted.String()}, want: []string{" R "}},
		{name: "related", args: []string{"-related", pdstest.Patients.Normal.String()}, want: []string{"related to " + pdstest.Patients.Normal.Format()}},
		{name: "search", args: []string{"-healthcare-worker", "-ods", "RX1", "-family", pdstest.SharedSurname, "-birthdate", birthOf(t, srv), "-max", "50"},
			want: []string{pdstest.SharedSurname}},
		{name: "invalid number", args: []string{"9434765918"}, wantErr: "invalid NHS number"},
		{name: "not found", args: []string{pdstest.Patients.Unknown.String()}, wantErr: "RESOURCE_NOT_FOUND"},
		{name: "no arguments", args: nil, wantErr: "give one NHS number"},
		{name: "bad ODS", args: []string{"-ods", "!", pdstest.Patients.Normal.String()}, wantErr: "an ODS code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(ctx, append([]string{"-base", srv.URL}, tt.args...), &out, &errOut)
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

func TestLookupJSON(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-base", srv.URL, "-json", pdstest.Patients.Normal.String()}, &out, &out))
	var rows []row
	require.NoError(t, json.Unmarshal(out.Bytes(), &rows))
	require.Len(t, rows, 1)
	assert.Equal(t, pdstest.Patients.Normal.String(), rows[0].NHSNumber)
	assert.Equal(t, "U", rows[0].Confidentiality)
	assert.NotEmpty(t, rows[0].Name)
	assert.NotEmpty(t, rows[0].GP)
}

// birthOf finds the date of birth of a patient with the shared surname.
func birthOf(t *testing.T, srv *pdstest.Server) string {
	t.Helper()
	for _, p := range pdstest.Population() {
		if p.Family == pdstest.SharedSurname && p.BirthDate != "" {
			return p.BirthDate
		}
	}
	t.Fatal("no patient with the shared surname")
	return ""
}
