package shcrkit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseNHSNumber(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "9434765919", want: "9434765919"},
		{in: "943 476 5919", want: "9434765919"},
		{in: "943-476-5919", want: "9434765919"},
		{in: "  9434765919\n", want: "9434765919"},
		{in: "9000000009", want: "9000000009"},
		{in: "9000000025", want: "9000000025"},
		{in: "9000000033", want: "9000000033"},
		{in: "", wantErr: "want 10 digits, got 0"},
		{in: "943476591", wantErr: "want 10 digits, got 9"},
		{in: "94347659190", wantErr: "more than 10 digits"},
		{in: "9434765918", wantErr: "check digit"},
		{in: "943476591A", wantErr: "unexpected character"},
		{in: "943 476-5919", wantErr: "mixed separators"},
		{in: "9434 765919", wantErr: "unexpected character"},
		{in: "943  476 5919", wantErr: "unexpected character"},
		{in: "943 476 591 9", wantErr: "unexpected character"},
		{in: "-9434765919", wantErr: "unexpected character"},
		// Check digit would be 10: never valid.
		{in: "1000000010", wantErr: "check digit"},
		{in: "٩٤٣٤٧٦٥٩١٩", wantErr: "unexpected character"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := shcrkit.ParseNHSNumber(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, shcrkit.ErrInvalidNHSNumber)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
			assert.True(t, got.Valid())
		})
	}
}

func TestParseNHSNumberErrorNeverEchoesInput(t *testing.T) {
	_, err := shcrkit.ParseNHSNumber("9434765918")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "9434765918")
}

func TestNHSNumberForms(t *testing.T) {
	n := shcrkit.NHSNumber("9434765919")
	assert.Equal(t, "943 476 5919", n.Format())
	assert.Equal(t, "943****919", n.Masked())
	assert.NotContains(t, fmt.Sprintf("%#v", n), "9434765919")

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("trace", "patient", n)
	assert.Contains(t, buf.String(), `"patient":"943****919"`)
	assert.NotContains(t, buf.String(), "9434765919")

}

func TestNHSNumberJSON(t *testing.T) {
	type doc struct {
		N shcrkit.NHSNumber `json:"n"`
	}
	b, err := json.Marshal(doc{N: shcrkit.NHSNumber("9434765919")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"n":"9434765919"}`, string(b))

	var d doc
	require.NoError(t, json.Unmarshal([]byte(`{"n":"943 476 5919"}`), &d))
	assert.Equal(t, "9434765919", d.N.String())
	require.ErrorIs(t, json.Unmarshal([]byte(`{"n":"9434765918"}`), &d), shcrkit.ErrInvalidNHSNumber)
	require.NoError(t, json.Unmarshal([]byte(`{"n":""}`), &d))
	assert.Empty(t, d.N)
}

// checkDigit computes the modulus-11 check digit independently of the
// package, or -1 when none exists.
func checkDigit(nine string) int {
	sum := 0
	for i, c := range nine {
		sum += int(c-'0') * (10 - i)
	}
	d := 11 - sum%11
	if d == 11 {
		return 0
	}
	if d == 10 {
		return -1
	}
	return d
}

func TestParseNHSNumberAgreesWithIndependentCheck(t *testing.T) {
	for i := 900000000; i < 900000000+2000; i++ {
		nine := fmt.Sprint(i)
		cd := checkDigit(nine)
		for d := 0; d <= 9; d++ {
			_, err := shcrkit.ParseNHSNumber(nine + fmt.Sprint(d))
			assert.Equal(t, d == cd, err == nil, "%s%d", nine, d)
		}
	}
}

func FuzzParseNHSNumber(f *testing.F) {
	for _, s := range []string{"9434765919", "943 476 5919", "943-476-5919", "", "x", "9434765918", "943 476-5919", "99999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := shcrkit.ParseNHSNumber(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid NHS number") {
				t.Fatalf("error %v does not say what is wrong", err)
			}
			return
		}
		if !n.Valid() || len(n.String()) != 10 {
			t.Fatalf("accepted %q as invalid %q", s, n)
		}
		// Every valid number round-trips through each of its printed forms.
		for _, form := range []string{n.String(), n.Format(), strings.ReplaceAll(n.Format(), " ", "-")} {
			m, err := shcrkit.ParseNHSNumber(form)
			if err != nil || m != n {
				t.Fatalf("%q does not round-trip through %q: %v", n, form, err)
			}
		}
	})
}
