package postgres

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The application's role may append and read events and nothing more:
// the database refuses its UPDATE and DELETE by privilege, before any
// trigger runs.
func TestAppRoleMayInsertAndReadButNotUpdateOrDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := newSchema(t)
	role := schema + "_app"
	conn := admin(t)
	_, err := conn.Exec(ctx, "CREATE ROLE "+role+" LOGIN")
	require.NoError(t, err)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), testDSN(t))
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		c.Exec(context.Background(), "DROP OWNED BY "+role)
		c.Exec(context.Background(), "DROP ROLE "+role)
	})

	require.NoError(t, Migrate(ctx, testDSN(t), WithSchema(schema), WithAppRole(role)))
	owner := openStore(t, schema)
	require.NoError(t, owner.Write(ctx, readEvent(t0, patientA)))

	appDSN := asRole(t, testDSN(t), role)
	app := openStoreAt(t, appDSN, schema)
	require.NoError(t, app.Write(ctx, readEvent(t0, patientB)))
	assert.Len(t, queryAll(t, app, audit.Filter{Patient: patientB}), 1)
	_, err = app.SignCheckpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, app.Verify(ctx))

	appConn, err := pgx.Connect(ctx, appDSN)
	require.NoError(t, err)
	defer appConn.Close(ctx)
	for _, sql := range []string{
		"UPDATE $s.events SET patient = NULL WHERE seq = 1",
		"DELETE FROM $s.events WHERE seq = 1",
		"TRUNCATE $s.events",
		"UPDATE $s.checkpoints SET signed = ''",
		"DELETE FROM $s.checkpoints",
		"UPDATE $s.log_info SET verifier_key = ''",
		"CREATE TABLE $s.other (x int)",
	} {
		_, err := appConn.Exec(ctx, owner.cfg.expand(sql))
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%s: %v", sql, err)
		assert.Equal(t, "42501", pgErr.Code, sql)
		assert.Contains(t, pgErr.Message, "permission denied", sql)
	}
	require.NoError(t, owner.Verify(ctx))
}

// asRole returns dsn with its user replaced (the test cluster trusts
// loopback connections).
func asRole(t *testing.T, dsn, role string) string {
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	u.User = url.User(role)
	return u.String()
}
