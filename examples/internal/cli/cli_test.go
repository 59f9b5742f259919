package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newSet(out io.Writer) (*flag.FlagSet, *string, *time.Duration) {
	fs := NewFlagSet("demo", out)
	dir := fs.String("audit-dir", "", "audit log directory")
	lat := fs.Duration("latency", 0, "latency")
	return fs, dir, lat
}

func TestParseEnv(t *testing.T) {
	env := map[string]string{"SHCRKIT_AUDIT_DIR": "/from/env", "SHCRKIT_LATENCY": "20ms"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantDir string
		wantLat time.Duration
		wantErr string
	}{
		{name: "environment", env: env, wantDir: "/from/env", wantLat: 20 * time.Millisecond},
		{name: "flag wins", args: []string{"-audit-dir", "/flag"}, env: env, wantDir: "/flag", wantLat: 20 * time.Millisecond},
		{name: "no environment", wantDir: "", wantLat: 0},
		{name: "bad value", env: map[string]string{"SHCRKIT_LATENCY": "soon"}, wantErr: "$SHCRKIT_LATENCY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env = tt.env
			fs, dir, lat := newSet(io.Discard)
			err := ParseEnv(fs, tt.args, lookup)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantDir, *dir)
			assert.Equal(t, tt.wantLat, *lat)
		})
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		fs, _, _ := newSet(&out)
		err := Parse(fs, []string{arg})
		require.ErrorIs(t, err, flag.ErrHelp)
		for _, want := range []string{"usage: demo [flags]", "-audit-dir", "-latency", "SHCRKIT_AUDIT_DIR"} {
			assert.Contains(t, out.String(), want, arg)
		}
	}
}

func TestRequired(t *testing.T) {
	fs, _, _ := newSet(io.Discard)
	require.NoError(t, fs.Parse(nil))
	err := Required(fs, "latency", "audit-dir")
	require.ErrorIs(t, err, ErrRequired)
	assert.Equal(t, "-audit-dir is required (or $SHCRKIT_AUDIT_DIR)", err.Error())
	assert.NotContains(t, err.Error(), "invalid")
	require.NoError(t, fs.Set("audit-dir", "x"))
	require.NoError(t, Required(fs, "audit-dir"))
	assert.EqualError(t, Missing("reader", "with -patient"), "-reader is required with -patient")
}

func TestExit(t *testing.T) {
	run := func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := NewFlagSet("demo", stderr)
		if err := Parse(fs, args); err != nil {
			return err
		}
		if err := NoArgs(fs); err != nil {
			return err
		}
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		return nil
	}
	tests := []struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		{nil, 0, ""},
		{[]string{"-h"}, 0, "usage: demo"},
		{[]string{"-nope"}, 1, "flag provided but not defined"},
		{[]string{"extra"}, 1, `demo: unexpected argument "extra"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, tt.wantCode, Exit("demo", time.Minute, run, tt.args, &stdout, &stderr), tt.args)
		assert.Contains(t, stderr.String(), tt.wantStderr, tt.args)
	}
}
