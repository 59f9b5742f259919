package attack

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/shcrkit/shcrkit"
)

// tally counts attempts and held attempts per promise.
var tally = struct {
	sync.Mutex
	tried, held map[string]int
}{tried: map[string]int{}, held: map[string]int{}}

// attempt records one attempt on promise; held says whether it held.
func attempt(promise string, held bool) {
	tally.Lock()
	defer tally.Unlock()
	tally.tried[promise]++
	if held {
		tally.held[promise]++
	}
}

// report logs the counts of promise so far.
func report(t *testing.T, promise string) {
	tally.Lock()
	defer tally.Unlock()
	t.Logf("%s: %d attempts, %d held", promise, tally.tried[promise], tally.held[promise])
}

func TestMain(m *testing.M) {
	code := m.Run()
	tally.Lock()
	names := make([]string, 0, len(tally.tried))
	for k := range tally.tried {
		names = append(names, k)
	}
	slices.Sort(names)
	tried, held := 0, 0
	fmt.Println("attack suite tally:")
	for _, k := range names {
		fmt.Printf("  %-58s %5d tried %5d held\n", k, tally.tried[k], tally.held[k])
		tried += tally.tried[k]
		held += tally.held[k]
	}
	fmt.Printf("  %-58s %5d tried %5d held\n", "total", tried, held)
	tally.Unlock()
	os.Exit(code)
}

// Secrets of the attacked clients, and what a hostile service echoes.
const (
	accessToken = "at-Q3x9Lm2Pz8Rk4Vw7Yt5Nc"
	apiKey      = "ak-H7gT2mQ9xZ4pL6nBv3Sd"
	clientJWT   = "eyJhbGciOiJSUzUxMiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhay1IN2dUMm1ROXhaNHBMNm5CdjNTZCJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	idToken     = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI1NTUwMjE5MzUxMDcifQ.aWQtdG9rZW4tc2lnbmF0dXJl"
	patientNHS  = "9434765919"
)

// nhsWritten is the patient's number in every form a service might echo.
var nhsWritten = []string{
	"9434765919", "943 476 5919", "943-476-5919", "943.476.5919", "943/476/5919", "943\t476\t5919",
	"943\u00a0476\u00a05919", "９４３４７６５９１９", "943 - 476 - 5919", "9434 765 919",
}

// hostileText is what a hostile service writes wherever it can: the
// patient's number in every form, the caller's own credentials (echo is
// what it received: the bearer token, the client assertion or the
// identity token) and a URL with a query.
func hostileText(echo string) string {
	return "patient " + strings.Join(nhsWritten, " | ") +
		" Bearer " + accessToken + " " + clientJWT + " " + idToken + " api key " + apiKey +
		" echo " + echo + " at https://evil.example/p?nhs=" + patientNHS + "&token=" + accessToken
}

// secretsOf are the strings that must never appear.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}`)

// uuid is a request ID the SDK made: its digit groups joined by hyphens
// can look like ten digits, but it came from no one outside.
var uuid = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// leaks lists what of the secrets and NHS numbers s still holds.
func leaks(s string, extra ...string) []string {
	s = uuid.ReplaceAllString(s, "<uuid>")
	var out []string
	for _, sec := range append([]string{accessToken, apiKey, clientJWT, idToken}, extra...) {
		if len(sec) >= 8 && strings.Contains(s, sec) {
			out = append(out, "secret "+sec[:8]+"…")
		}
	}
	if m := jwtLike.FindString(s); m != "" {
		out = append(out, "JWT "+m[:12]+"…")
	}
	if strings.Contains(s, "nhs="+patientNHS) || strings.Contains(s, "?nhs=") {
		out = append(out, "query string")
	}
	if n, ok := survivingNHSNumber(s); ok {
		out = append(out, "NHS number "+n)
	}
	return out
}

// survivingNHSNumber finds a valid NHS number in s as a person would read
// it: digits of any script, up to three separators between two. It is
// written apart from the redactor on purpose.
func survivingNHSNumber(s string) (string, bool) {
	var digits []byte
	gap := 0
	flush := func() (string, bool) {
		for a := 0; a+10 <= len(digits); a++ {
			if shcrkit.NHSNumber(string(digits[a : a+10])).Valid() {
				return string(digits[a : a+10]), true
			}
		}
		digits = digits[:0]
		return "", false
	}
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			var v byte
			for z := r; unicode.IsDigit(z); z-- {
				v++
			}
			digits = append(digits, '0'+(v-1)%10)
			gap = 0
		case len(digits) > 0 && gap < 3 && (unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("-./_\\‐‑‒–—−－．／・", r)):
			gap++
		default:
			if n, ok := flush(); ok {
				return n, true
			}
			gap = 0
		}
	}
	return flush()
}
