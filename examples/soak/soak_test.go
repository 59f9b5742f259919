package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSoakBrief runs the soak for a few seconds with every fault of the
// schedule, and checks that the invariants held and the report is whole.
// .ci/run runs it for a minute; -duration runs it for as long as wanted.
func TestSoakBrief(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the soak for several seconds")
	}
	report := filepath.Join(t.TempDir(), "report.json")
	var out bytes.Buffer
	err := run(context.Background(), []string{"-duration", "8s", "-rate", "15", "-interval", "2s", "-json", report}, &out, &out)
	require.NoError(t, err, out.String())
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	var rep struct {
		Faults []struct {
			Kind string  `json:"kind"`
			EndS float64 `json:"endS"`
		} `json:"faults"`
		Invariants []struct {
			Name string `json:"name"`
			Held bool   `json:"held"`
		} `json:"invariants"`
		Total struct {
			Started   int `json:"started"`
			Completed int `json:"completed"`
		} `json:"total"`
		JourneysPerSecondPerCore float64 `json:"journeysPerSecondPerCore"`
		AuditEvents              int     `json:"auditEvents"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Faults, len(schedule), "every kind of fault was injected:\n%s", out.String())
	for _, f := range rep.Faults {
		assert.NotZero(t, f.EndS, "%s ended", f.Kind)
	}
	require.Len(t, rep.Invariants, 5)
	for _, inv := range rep.Invariants {
		assert.True(t, inv.Held, inv.Name)
	}
	assert.Equal(t, rep.Total.Started, rep.Total.Completed, "every journey started came back")
	assert.Positive(t, rep.JourneysPerSecondPerCore)
	assert.Positive(t, rep.AuditEvents)
	assert.Contains(t, out.String(), "invariants:")
}

func TestSoakFlags(t *testing.T) {
	for _, args := range [][]string{{"-duration", "1s"}, {"-rate", "0"}, {"-workers", "0"}, {"extra"}} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		assert.Error(t, err, "%v", args)
	}
	cfg, _, err := parseFlags([]string{"-duration", "30m", "-rate", "25"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, 30*time.Minute, cfg.Duration)
}
