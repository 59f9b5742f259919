package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"
)

// Every way of editing the tables behind the store's back that Verify
// must find. Each case writes ten events (the last checkpoint covering
// them all), runs its SQL as the superuser with the append-only
// triggers off, and expects Verify to name what it did.
func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sql  string
		want string // part of a problem's text
	}{
		{"record changed", `UPDATE $s.events SET record = convert_to(replace(convert_from(record, 'UTF8'), 'care-plan-1', 'care-plan-2'), 'UTF8') WHERE seq = 4`, "stored hashes"},
		{"record changed, the tree recomputed", `UPDATE $s.events SET record = convert_to(replace(convert_from(record, 'UTF8'), 'care-plan-1', 'care-plan-2'), 'UTF8') WHERE seq = 4`, "does not match the events it covers"},
		{"patient column changed", `UPDATE $s.events SET patient = '9000000009' WHERE seq = 5`, "patient column"},
		{"user column changed", `UPDATE $s.events SET user_id = 'someone-else' WHERE seq = 5`, "user_id column"},
		{"time column changed", `UPDATE $s.events SET time_ns = time_ns + 1 WHERE seq = 5`, "time column"},
		{"row deleted", `DELETE FROM $s.events WHERE seq = 6`, "event 5 is followed by event 7"},
		{"last row deleted", `DELETE FROM $s.events WHERE seq = 10`, "covers 10 events"},
		{"row inserted", `INSERT INTO $s.events SELECT seq + 100, time_ns, patient, user_id, organisation, custodian, action, service, outcome, purpose, correlation_id, record, hashes, frontier FROM $s.events WHERE seq = 3`, "event 10 is followed by event 103"},
		{"rows swapped", `UPDATE $s.events SET seq = 1000 WHERE seq = 2; UPDATE $s.events SET seq = 2 WHERE seq = 3; UPDATE $s.events SET seq = 3 WHERE seq = 1000`, "is not that event"},
		{"records renumbered and swapped", `UPDATE $s.events e SET record = convert_to(regexp_replace(convert_from(o.record, 'UTF8'), '^\{"seq":[0-9]+', '{"seq":' || e.seq), 'UTF8')
			FROM $s.events o WHERE (e.seq, o.seq) IN ((2, 3), (3, 2))`, "does not match the events it covers"},
		{"stored hash changed", `UPDATE $s.events SET hashes = sha256(hashes) WHERE seq = 8`, "stored hashes"},
		{"frontier changed", `UPDATE $s.events SET frontier = sha256(frontier) WHERE frontier IS NOT NULL AND seq = 10`, "frontier"},
		{"checkpoint changed", `UPDATE $s.checkpoints SET signed = convert_to(replace(convert_from(signed, 'UTF8'), E'\n10\n', E'\n9\n'), 'UTF8') WHERE size = 10`, "checkpoint"},
		{"checkpoint deleted and forged", `DELETE FROM $s.checkpoints; INSERT INTO $s.checkpoints VALUES (10, 'forged')`, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			schema := newSchema(t)
			s := openStore(t, schema)
			for i := range 10 {
				require.NoError(t, s.Write(ctx, readEvent(t0.Add(time.Duration(i)*time.Minute), patientA)))
			}
			_, err := s.SignCheckpoint(ctx)
			require.NoError(t, err)
			require.NoError(t, s.Verify(ctx))

			c := admin(t)
			_, err = c.Exec(ctx, s.cfg.expand(tc.sql))
			require.NoError(t, err)
			if strings.Contains(tc.name, "the tree recomputed") {
				rebuildTree(t, c, s)
			}

			err = s.Verify(ctx)
			require.ErrorIs(t, err, audit.ErrTampered)
			var ie *audit.IntegrityError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, strings.Join(ie.Problems, "\n"), tc.want)
			assert.NotContains(t, err.Error(), string(patientA), "no NHS number in an error")
		})
	}
}

// The triggers refuse every change, even by the schema's owner.
func TestEventsAreAppendOnlyForTheOwnerToo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	_, err := s.SignCheckpoint(ctx)
	require.NoError(t, err)
	conn := admin(t)
	_, err = conn.Exec(ctx, "SET session_replication_role = origin")
	require.NoError(t, err)
	for _, sql := range []string{
		"UPDATE $s.events SET patient = NULL",
		"DELETE FROM $s.events",
		"TRUNCATE $s.events",
		"DELETE FROM $s.checkpoints",
		"UPDATE $s.log_info SET verifier_key = 'x'",
	} {
		_, err := conn.Exec(ctx, s.cfg.expand(sql))
		require.Error(t, err, sql)
		assert.Contains(t, err.Error(), "append-only", sql)
	}
	require.NoError(t, s.Verify(ctx))
}

// rebuildTree recomputes every row's stored hashes and frontier from the
// records, as a tamperer covering their tracks would.
func rebuildTree(t *testing.T, c *pgx.Conn, s *Store) {
	ctx := context.Background()
	rows, err := c.Query(ctx, s.cfg.expand("SELECT record, frontier IS NOT NULL FROM $s.events ORDER BY seq"))
	require.NoError(t, err)
	type fix struct {
		hashes, front []byte
	}
	var fixes []fix
	var f frontier
	for rows.Next() {
		var rec []byte
		var hasFront bool
		require.NoError(t, rows.Scan(&rec, &hasFront))
		hs, err := f.add(tlog.RecordHash(rec), nil)
		require.NoError(t, err)
		x := fix{hashes: hs}
		if hasFront {
			x.front = f.encode()
		}
		fixes = append(fixes, x)
	}
	require.NoError(t, rows.Err())
	for i, x := range fixes {
		_, err := c.Exec(ctx, s.cfg.expand("UPDATE $s.events SET hashes = $1, frontier = $2 WHERE seq = $3"), x.hashes, x.front, i+1)
		require.NoError(t, err)
	}
}
