package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The writer's connection is lost while the server is still committing
// a batch (its COMMIT is running: here a deferred trigger makes it
// slow, and deaf to the cancel request pgx sends). The store must not answer "not written" while that transaction
// may still commit: a Write that fails with ErrUnavailable promises the
// event is not in the log. Before the fix the writer looked for the
// batch on a new connection at once, did not find it (not committed
// yet), and answered ErrUnavailable; a moment later the batch committed.
func TestLostConnectionDuringCommitIsNotReportedAsNotWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))

	c := admin(t)
	// The COMMIT takes two seconds and cannot be cancelled, as one
	// waiting on a slow disk or a synchronous standby (pgx sends a
	// cancel request when a connection fails; it may not get through,
	// or arrive when the commit no longer heeds it).
	_, err := c.Exec(ctx, s.cfg.expand(`CREATE FUNCTION $s.slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		DECLARE
			until timestamptz := clock_timestamp() + interval '2 seconds';
		BEGIN
			IF NEW.correlation_id = 'slow-commit' THEN
				WHILE clock_timestamp() < until LOOP
					BEGIN
						PERFORM pg_sleep(0.05);
					EXCEPTION WHEN query_canceled THEN NULL;
					END;
				END LOOP;
			END IF;
			RETURN NULL;
		END $$;
		CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON $s.events
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION $s.slow_commit()`))
	require.NoError(t, err)

	// The writer's connection, made by Open on this goroutine.
	netConn := s.w.conn.PgConn().Conn()
	pid := s.w.conn.PgConn().PID()

	e := readEvent(t0, patientB)
	e.CorrelationID = "slow-commit"
	res := make(chan error, 1)
	go func() { res <- s.Write(ctx, e) }()

	// Wait until the writer's backend sleeps inside its COMMIT, then cut
	// the client's side of the connection; the server goes on.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var sleeping bool
		require.NoError(t, c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep')", pid).Scan(&sleeping))
		if sleeping {
			break
		}
		require.True(t, time.Now().Before(deadline), "the writer's COMMIT never reached the trigger")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, netConn.Close())

	werr := <-res
	// Let the old backend finish whatever it was doing.
	for {
		var alive bool
		require.NoError(t, c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&alive))
		if !alive {
			break
		}
		require.True(t, time.Now().Before(deadline.Add(10*time.Second)), "the old backend never ended")
		time.Sleep(10 * time.Millisecond)
	}
	var inLog bool
	require.NoError(t, c.QueryRow(ctx, s.cfg.expand("SELECT EXISTS (SELECT 1 FROM $s.events WHERE correlation_id = 'slow-commit')")).Scan(&inLog))
	t.Logf("Write: %v; in the log: %v", werr, inLog)
	switch {
	case werr == nil:
		require.True(t, inLog, "an acknowledged event is in the log")
	case errors.Is(werr, ErrInDoubt):
	default:
		require.False(t, inLog, "Write failed with %v, which says the event was not written, but it is in the log", werr)
	}
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)), "the store goes on")
	require.NoError(t, s.Verify(ctx))
}
