package audit

import (
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowDescribe is what describeRecord must agree with: the whole record
// decoded with encoding/json.
func slowDescribe(rec []byte) (logstore.Entry, []string, error) {
	ev, err := decodeRecord(rec)
	if err != nil {
		return logstore.Entry{}, nil, err
	}
	return entryFor(&ev), eventKeys(&ev), nil
}

func TestDescribeRecordAgreesWithDecoding(t *testing.T) {
	odd := readEvent(t0, clinician(), patientA)
	odd.Requester.UserID = `user "quoted" \ back ü`
	odd.Requester.Activities = []string{"B0360", `{[not]}`}
	odd.Reason = "braces } and ] in text, and \u2028"
	odd.Purpose = shcrkit.PurposeUnspecified
	odd.Custodian = ""
	events := []Event{readEvent(t0, clinician(), patientA), searchEvent(t0, nurse(), patientB), smallEvent(3, patientC), benchEvent(1), odd}
	for i, e := range events {
		n, err := e.Normalize(t0)
		require.NoError(t, err)
		rec := AppendRecord(nil, uint64(i+1), t0.Add(time.Second), &n)
		want, wantKeys, err := slowDescribe(rec)
		require.NoError(t, err)
		got, keys, err := describeRecord(rec)
		require.NoError(t, err, "%s", rec)
		assert.Equal(t, want, got, "%s", rec)
		assert.Equal(t, wantKeys, keys, "%s", rec)
	}

	hand := []struct {
		name string
		rec  string
	}{
		{"repeated key: the last wins", `{"seq":1,"time":"2025-03-03T09:00:00Z","requester":{"userId":"a","organisation":"RX1"},"patient":"9434765919","patient":"9000000009","action":"read","service":"shcr","outcome":"success"}`},
		{"escaped value", `{"seq":1,"time":"2025-03-03T09:00:00Z","requester":{"userId":"\u0061b","organisation":"RX1"},"patient":"943476591\u0039","action":"read","service":"shcr","outcome":"success"}`},
		{"spaces", `{"seq":1, "time" : "2025-03-03T09:00:00.5Z" , "requester" : { "userId" : "a" } , "action" : "read" , "service":"shcr","outcome":"success","purpose":"ETREAT"}`},
		{"key in another case", `{"seq":1,"time":"2025-03-03T09:00:00Z","requester":{"userId":"a"},"Patient":"9434765919","action":"read","service":"shcr","outcome":"success"}`},
		{"requester key in another case", `{"seq":1,"time":"2025-03-03T09:00:00Z","requester":{"UserID":"a"},"action":"read","service":"shcr","outcome":"success"}`},
		{"nested values skipped", `{"seq":1,"time":"2025-03-03T09:00:00Z","requester":{"userId":"a","system":{"name":"x}"},"activities":["]","{"]},"onBehalfOf":{"userId":"b"},"action":"read","service":"shcr","outcome":"success"}`},
	}
	for _, tt := range hand {
		t.Run(tt.name, func(t *testing.T) {
			want, wantKeys, err := slowDescribe([]byte(tt.rec))
			require.NoError(t, err)
			got, keys, err := describeRecord([]byte(tt.rec))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, wantKeys, keys)
		})
	}

	bad := []string{
		`{"seq":1,"time":"yesterday","action":"read"}`,
		`{"seq":1,"seq":2,"time":"2025-03-03T09:00:00Z"}`,
		`{"seq":1,"time":"2025-03-03T09:00:00Z","purpose":"NOPE"}`,
		`{"seq":1,"time":"2025-03-03T09:00:00Z"`,
		`{"seq":1,"time":"2025-03-03T09:00:00Z"} trailing`,
		`{"seq":1,"requester":"not an object"}`,
	}
	for _, rec := range bad {
		_, _, err := describeRecord([]byte(rec))
		assert.Error(t, err, rec)
	}
}

// BenchmarkDescribeRecord compares reading what the engine keeps of a
// record with decoding the whole event.
func BenchmarkDescribeRecord(b *testing.B) {
	n, err := benchEvent(1).Normalize(t0)
	require.NoError(b, err)
	rec := AppendRecord(nil, 123456, t0, &n)
	for _, bb := range []struct {
		name string
		f    func([]byte) (logstore.Entry, []string, error)
	}{{"fields", describeRecord}, {"decode", slowDescribe}} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(rec)))
			for b.Loop() {
				if _, _, err := bb.f(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
