package postgres

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A write that waits for the append lock longer than the statement
// timeout fails with ErrTimeout and is not written; the store goes on.
func TestWriteTimesOutWaitingForTheAppendLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "", WithStatementTimeout(time.Second))
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))

	holder := admin(t)
	tx, err := holder.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.sql.appendLock)
	require.NoError(t, err)

	err = s.Write(ctx, readEvent(t0, patientB))
	require.ErrorIs(t, err, ErrTimeout)

	require.NoError(t, tx.Rollback(ctx))
	seq, err := s.Append(ctx, readEvent(t0, patientB))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), seq, "the timed-out event took no number")
	require.NoError(t, s.Verify(ctx))
}

// Queries use a pool of their own: with it exhausted a query fails with
// ErrUnavailable when its context ends, and writes carry on.
func TestQueryWhenThePoolIsExhausted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "", WithMaxConns(1))
	require.NoError(t, s.Write(ctx, readEvent(t0, patientA)))
	held, err := s.pool.Acquire(ctx)
	require.NoError(t, err)

	// Long enough for the query's own audit write on a loaded machine.
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var qerr error
	for _, err := range s.Query(qctx, officer(), audit.Filter{Patient: patientA}) {
		qerr = err
		break
	}
	require.ErrorIs(t, qerr, ErrUnavailable)
	require.ErrorIs(t, qerr, context.DeadlineExceeded)
	require.NoError(t, s.Write(ctx, readEvent(t0, patientB)), "writes do not wait for the pool")

	held.Release()
	assert.Len(t, queryAll(t, s, audit.Filter{Patient: patientA, Service: audit.ServiceShCR}), 1)
}

// The database crashes and restarts while writers write: every event
// whose Write returned nil is in the log afterwards, writes resume on
// their own, and the log verifies. The test runs a cluster of its own,
// so as not to disturb the other tests.
func TestDatabaseRestartMidStreamLosesNoAcknowledgedEvent(t *testing.T) {
	testDSN(t)
	for _, mode := range []string{"immediate", "fast"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			dsn, dir := startCluster(t)
			s := openStoreAt(t, dsn, "restart", WithStatementTimeout(5*time.Second))

			var mu sync.Mutex
			var acked []string
			var failures []error
			progress := make(chan struct{}, 1)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						e := readEvent(t0, patientA)
						e.RequestID = fmt.Sprintf("w%d-%d", w, i)
						err := s.Write(ctx, e)
						mu.Lock()
						if err == nil {
							acked = append(acked, e.RequestID)
						} else {
							failures = append(failures, err)
						}
						mu.Unlock()
						select {
						case progress <- struct{}{}:
						default:
						}
					}
				})
			}
			ackedNow := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(acked)
			}
			waitFor := func(n int) {
				deadline := time.After(2 * time.Minute)
				for ackedNow() < n {
					select {
					case <-progress:
					case <-deadline:
						t.Fatalf("writes did not reach %d acknowledged events", n)
					}
				}
			}
			waitFor(200)
			out, err := exec.Command(clusterScript(t), "restart", dir, mode).CombinedOutput()
			require.NoError(t, err, "%s", out)
			waitFor(ackedNow() + 200)
			close(stop)
			wg.Wait()

			for _, err := range failures {
				assert.True(t, errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInDoubt), "untyped failure: %v", err)
			}
			t.Logf("%d events acknowledged, %d writes failed across the restart", len(acked), len(failures))
			require.NoError(t, s.Close())

			r := openStoreAt(t, dsn, "restart")
			require.NoError(t, r.Verify(ctx))
			found := map[string]bool{}
			for _, e := range queryAll(t, r, audit.Filter{Patient: patientA}) {
				found[e.RequestID] = true
			}
			for _, id := range acked {
				require.True(t, found[id], "acknowledged event %s lost", id)
			}
		})
	}
}

// With the tablespace full, a write fails with ErrDiskFull and so does
// the next (fail closed); what was written still verifies. It needs root
// to mount a small tmpfs for the tablespace.
func TestWriteFailsClosedWhenTheDiskIsFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testDSN(t)
	dir, err := os.MkdirTemp("", "shcrkit-pg-full-")
	require.NoError(t, err)
	t.Cleanup(func() { os.Remove(dir) })
	uid, gid := postgresIDs(t)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=1m,mode=0700,uid=%d,gid=%d", uid, gid)); err != nil {
		t.Skipf("cannot mount a small tmpfs for the tablespace (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	ts := "ts_" + strings.TrimPrefix(filepath.Base(dir), "shcrkit-pg-full-")
	ts = strings.ToLower(notIdent.ReplaceAllString(ts, "_"))
	conn := admin(t)
	_, err = conn.Exec(ctx, "CREATE TABLESPACE "+ts+" LOCATION '"+dir+"'")
	require.NoError(t, err)
	t.Cleanup(func() { admin(t).Exec(context.Background(), "DROP TABLESPACE IF EXISTS "+ts) })

	s := openStore(t, "", WithTablespace(ts))
	var werr error
	n := 0
	for ; n < 100000; n++ {
		if werr = s.Write(ctx, readEvent(t0, patientA)); werr != nil {
			break
		}
	}
	require.ErrorIs(t, werr, ErrDiskFull)
	t.Logf("the tablespace took %d events", n)
	require.ErrorIs(t, s.Write(ctx, readEvent(t0, patientB)), ErrDiskFull)
	require.NoError(t, s.Verify(ctx))
	size, err := s.Size(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(n), size)
}

// clusterScript is the repository's scripts/test-postgres.
func clusterScript(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "scripts", "test-postgres"))
	require.NoError(t, err)
	return p
}

// startCluster starts a cluster of the test's own and returns its DSN
// and directory; it is stopped when the test ends.
func startCluster(t *testing.T) (dsn, dir string) {
	out, err := exec.Command(clusterScript(t), "start").Output()
	require.NoError(t, err, "%s", out)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, "'")
		switch k {
		case "SHCRKIT_TEST_POSTGRES":
			dsn = v
		case "SHCRKIT_TEST_POSTGRES_DIR":
			dir = v
		}
	}
	require.NotEmpty(t, dsn)
	require.NotEmpty(t, dir)
	t.Cleanup(func() { exec.Command(clusterScript(t), "stop", dir).Run() })
	return dsn, dir
}

// postgresIDs returns the uid and gid of the postgres user that runs the
// test cluster.
func postgresIDs(t *testing.T) (int, int) {
	out, err := exec.Command("id", "-u", "postgres").Output()
	if err != nil {
		t.Skip("no postgres user")
	}
	gout, err := exec.Command("id", "-g", "postgres").Output()
	require.NoError(t, err)
	var uid, gid int
	fmt.Sscan(string(out), &uid)
	fmt.Sscan(string(gout), &gid)
	return uid, gid
}
