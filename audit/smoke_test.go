package audit

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
)

func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := shcrkit.Requester{UserID: "555000111222", Name: "Dr A", RoleProfileID: "1", RoleCode: "S1:G1:R8000", Organisation: "RX1", System: shcrkit.System{Name: "EPR"}}
	for i := 0; i < 10; i++ {
		err := l.Write(ctx, Event{Time: time.Now(), Requester: req, Action: ActionRead, Service: ServiceShCR, Patient: "9434765919", Outcome: OutcomeSuccess})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for e, err := range l.Query(ctx, req, Filter{Patient: "9434765919"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		_ = e
	}
	t.Log("query", n)
	p, err := l.Prove(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	ev, _, err := VerifyInclusion(l.VerifierKey(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(ev.Seq)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = OpenLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	t.Log(l.Size(), l.Recovered())
	l.Close()
}

func TestBodyMatchesJSON(t *testing.T) {
	e := benchEvent(1)
	e.Time = time.Date(2025, 3, 1, 9, 15, 0, 123, time.UTC)
	e.Reason = `a "quoted" <tag> & \ back – é ` + "\u2028"
	e.OnBehalfOf = &Authority{UserID: "1", Name: "Sup", Organisation: "RX1"}
	got := appendEventBody(nil, &e)
	want, _ := json.Marshal(&e)
	if string(got) != string(want) {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}
