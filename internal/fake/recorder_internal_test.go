package fake

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A fake serving for days keeps its most recent requests only, and still
// counts them all.
func TestRecorderKeepsTheMostRecent(t *testing.T) {
	var r Recorder
	total := 3*MaxKept + 7
	for i := range total {
		r.add(Request{Path: "/" + strconv.Itoa(i)})
		require.LessOrEqual(t, len(r.reqs.Items()), MaxKept)
	}
	assert.Equal(t, total, r.Len())
	got := r.Requests()
	require.NotEmpty(t, got)
	assert.Equal(t, "/"+strconv.Itoa(total-1), got[len(got)-1].Path, "the newest is kept")
	assert.GreaterOrEqual(t, len(got), MaxKept-MaxKept/10)
	for i := 1; i < len(got); i++ {
		a, _ := strconv.Atoi(got[i-1].Path[1:])
		b, _ := strconv.Atoi(got[i].Path[1:])
		require.Equal(t, a+1, b, "oldest first, none missing among those kept")
	}

	// Bodies are bounded too.
	r.Reset()
	assert.Zero(t, r.Len())
	body := make([]byte, MaxKeptBytes/4+1)
	for range 10 {
		r.add(Request{Body: body})
		require.LessOrEqual(t, r.reqs.Bytes(), MaxKeptBytes)
	}
	assert.Equal(t, 10, r.Len())
	assert.Len(t, r.Requests(), 3)
}
