package postgres

import (
	"context"
	"testing"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/require"
)

// A store that keeps its signing key in the database: when log_info's
// key, verifier key or origin no longer agree with one another, the
// table was changed behind the store's back, and Open says so with
// audit.ErrTampered (before the fix it blamed the caller's options with
// audit.ErrInvalidOption, though the caller gave no key at all).
func TestOpenFindsATamperedStoredKey(t *testing.T) {
	t.Parallel()
	other, _, err := audit.GenerateSigningKey("shcrkit.audit")
	require.NoError(t, err)
	_, otherV, err := audit.GenerateSigningKey("shcrkit.audit")
	require.NoError(t, err)
	for _, tc := range []struct {
		name, sql string
		arg       string
	}{
		{"signing key replaced", "UPDATE $s.log_info SET signing_key = $1", other},
		{"verifier key replaced", "UPDATE $s.log_info SET verifier_key = $1", otherV},
		{"origin changed", "UPDATE $s.log_info SET origin = $1", "someone.else"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			schema := newSchema(t)
			s := openStore(t, schema)
			require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
			require.NoError(t, s.Close())
			_, err := admin(t).Exec(ctx, s.cfg.expand(tc.sql), tc.arg)
			require.NoError(t, err)

			_, err = Open(ctx, testDSN(t), WithSchema(schema))
			require.ErrorIs(t, err, audit.ErrTampered)
		})
	}
}
