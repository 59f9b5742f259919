package audit

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const crashChildEnv = "SHCRKIT_AUDIT_CRASH_DIR"

// crashChildOptions make every part of the writer busy: small segments
// roll often, the index flushes and merges often, checkpoints are signed
// every few milliseconds.
func crashChildOptions() []LogOption {
	return []LogOption{WithTuning(Tuning{SegmentSize: 16 << 10, IndexFlushEvents: 150}), WithCheckpointInterval(3 * time.Millisecond)}
}

// TestCrashChild is not a test: it is the process that TestKill9 starts
// and kills. It writes from concurrent writers and prints the seq and
// request ID of every acknowledged event.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("the process killed by TestKill9")
	}
	l, err := OpenLog(dir, crashChildOptions()...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	patients := []shcrkit.NHSNumber{patientA, patientB, patientC}
	for w := 0; w < 8; w++ {
		go func() {
			for i := 0; ; i++ {
				e := readEvent(t0.Add(time.Duration(i)*time.Second), clinician(), patients[(w+i)%3])
				e.RequestID = fmt.Sprintf("%d-w%d-%d", os.Getpid(), w, i)
				seq, err := l.Append(context.Background(), e)
				if err != nil {
					fmt.Fprintln(os.Stderr, "write:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d %s\n", seq, e.RequestID)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestKill9 starts a writer process, kills it with SIGKILL at a random
// moment, reopens the log, verifies it and checks that every event whose
// write had returned is there; many times over the same log.
func TestKill9(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("inside the child")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL and its wait status")
	}
	iterations, budget := 25, 12*time.Second
	if testing.Short() {
		iterations, budget = 6, 4*time.Second
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	acked := map[uint64]string{}
	start := time.Now()
	var torn, kills int
	for it := 0; it < iterations && (it < 3 || time.Since(start) < budget); it++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())

		// Kill after a random number of acknowledgements, or now and then
		// at a random instant, perhaps while the child is still opening
		// (and recovering) the log.
		killAfter := 1 + rng.IntN(1500)
		early := rng.IntN(5) == 0
		var timer *time.Timer
		if early {
			timer = time.AfterFunc(time.Duration(rng.IntN(40))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			var seq uint64
			var id string
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %s", &seq, &id); err != nil {
				continue
			}
			prev, dup := acked[seq]
			require.False(t, dup, "seq %d acknowledged twice (%s, %s)", seq, prev, id)
			acked[seq] = id
			if n++; n == killAfter && !early {
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			}
		}
		if timer != nil {
			timer.Stop()
		}
		err = cmd.Wait()
		require.Error(t, err, "the child runs until killed; stderr: %s", stderr.String())
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "child died of SIGKILL, not: %v; stderr: %s", err, stderr.String())
		kills++

		l, err := OpenLog(dir, crashChildOptions()...)
		require.NoError(t, err, "iteration %d: reopening after kill -9", it)
		if l.Recovered().Torn() {
			torn++
		}
		require.NoError(t, l.Verify(context.Background()), "iteration %d", it)
		for seq, id := range acked {
			e, err := l.event(seq)
			require.NoError(t, err, "acknowledged event %d", seq)
			require.Equal(t, id, e.RequestID, "acknowledged event %d", seq)
		}
		var maxSeq uint64
		for seq := range acked {
			maxSeq = max(maxSeq, seq)
		}
		assert.GreaterOrEqual(t, l.Size(), maxSeq)
		require.NoError(t, l.Close())
	}
	t.Logf("%d kills, %d acknowledged events all present, %d torn tails cut", kills, len(acked), torn)
}

// syncBuffer collects a child's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
