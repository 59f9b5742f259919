package shcrkit_test

// Checks the root package against the public API contract in DESIGN.md:
// every name it lists, with the stated signature, and the simplest case of
// each stated behaviour.

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
)

func TestDesignContractNHSNumber(t *testing.T) {
	var parse func(s string) (shcrkit.NHSNumber, error) = shcrkit.ParseNHSNumber
	for _, in := range []string{"9434765919", "943 476 5919", "943-476-5919"} {
		n, err := parse(in)
		if err != nil {
			t.Fatalf("ParseNHSNumber(%q): %v", in, err)
		}
		if got := n.String(); got != "9434765919" {
			t.Errorf("ParseNHSNumber(%q).String() = %q, want the 10 digits", in, got)
		}
	}
	for name, in := range map[string]string{
		"wrong length (9)":  "943476591",
		"wrong length (11)": "94347659190",
		"non-digit":         "94347659a9",
		"bad check digit":   "9434765918",
		"check digit of 10": "0000000060", // sum mod 11 == 1: check would be 10, invalid
		"empty":             "",
	} {
		if _, err := parse(in); !errors.Is(err, shcrkit.ErrInvalidNHSNumber) {
			t.Errorf("%s: ParseNHSNumber(%q) err = %v, want errors.Is ErrInvalidNHSNumber", name, in, err)
		}
	}

	n, _ := parse("9434765919")
	var lv slog.LogValuer = n
	if got := lv.LogValue().String(); got != "943****919" {
		t.Errorf("LogValue = %q, want masked 943****919", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "patient", n)
	if strings.Contains(buf.String(), "9434765919") || !strings.Contains(buf.String(), "943****919") {
		t.Errorf("slog line shows the NHS number unmasked: %s", buf.String())
	}
}

func TestDesignContractODSCode(t *testing.T) {
	var parse func(s string) (shcrkit.ODSCode, error) = shcrkit.ParseODSCode
	if c, err := parse("RX1"); err != nil || c != "RX1" {
		t.Errorf("ParseODSCode(RX1) = %q, %v", c, err)
	}
}

func TestDesignContractRequester(t *testing.T) {
	r := shcrkit.Requester{
		UserID:           "555000000101",
		Name:             "Dr A",
		RoleProfileID:    "555000000102",
		RoleCode:         "S8000:G8000:R8000",
		Activities:       []string{"B0360"},
		Organisation:     shcrkit.ODSCode("RX1"),
		OrganisationName: "Riverside",
		System:           shcrkit.System{Name: "EPR", Version: "1", ASID: "200000000001"},
	}
	var _ string = r.System.Name
	var _ string = r.System.Version
	var _ string = r.System.ASID
	var _ shcrkit.ODSCode = r.Organisation
}

func TestDesignContractPurpose(t *testing.T) {
	for p, want := range map[shcrkit.Purpose]string{
		shcrkit.PurposeDirectCare: "TREAT",
		shcrkit.PurposeEmergency:  "ETREAT",
		shcrkit.PurposeBreakGlass: "BTG",
	} {
		if got := p.ActReason(); got != want {
			t.Errorf("%v.ActReason() = %q, want %q", p, got, want)
		}
	}
}

func TestDesignContractAPIError(t *testing.T) {
	e := &shcrkit.APIError{
		StatusCode:  404,
		Code:        "INVALID_RESOURCE_ID",
		Diagnostics: "d",
		RequestID:   "r",
		Outcome:     &fhir.OperationOutcome{},
	}
	var _ int = e.StatusCode
	var _ string = e.Code
	var _ *fhir.OperationOutcome = e.Outcome
	var _ error = e

	for status, want := range map[int]error{
		404: shcrkit.ErrNotFound,
		401: shcrkit.ErrUnauthorized,
		403: shcrkit.ErrForbidden,
		429: shcrkit.ErrRateLimited,
		400: shcrkit.ErrInvalidRequest,
		503: shcrkit.ErrUnavailable,
	} {
		var err error = &shcrkit.APIError{StatusCode: status}
		if !errors.Is(err, want) {
			t.Errorf("APIError{StatusCode: %d} does not match %v", status, want)
		}
	}
	for code, want := range map[string]error{
		"RESOURCE_NOT_FOUND":     shcrkit.ErrNotFound,
		"INVALIDATED_RESOURCE":   shcrkit.ErrNotFound,
		"TOO_MANY_REQUESTS":      shcrkit.ErrRateLimited,
		"UNABLE_TO_CALL_SERVICE": shcrkit.ErrUnavailable,
		"INVALID_VALUE":          shcrkit.ErrInvalidRequest,
	} {
		status := map[string]int{"RESOURCE_NOT_FOUND": 404, "INVALIDATED_RESOURCE": 404, "TOO_MANY_REQUESTS": 429, "UNABLE_TO_CALL_SERVICE": 408, "INVALID_VALUE": 400}[code]
		var err error = &shcrkit.APIError{StatusCode: status, Code: code}
		if !errors.Is(err, want) {
			t.Errorf("APIError{%d %s} does not match %v", status, code, want)
		}
	}
	// The 401/403 split of ACCESS_DENIED.
	if err := error(&shcrkit.APIError{StatusCode: 401, Code: "ACCESS_DENIED"}); !errors.Is(err, shcrkit.ErrUnauthorized) {
		t.Error("401 ACCESS_DENIED is not ErrUnauthorized")
	}
	if err := error(&shcrkit.APIError{StatusCode: 403, Code: "ACCESS_DENIED"}); !errors.Is(err, shcrkit.ErrForbidden) {
		t.Error("403 ACCESS_DENIED is not ErrForbidden")
	}
	// The sentinels are distinct.
	all := []error{shcrkit.ErrNotFound, shcrkit.ErrUnauthorized, shcrkit.ErrForbidden, shcrkit.ErrRateLimited, shcrkit.ErrInvalidRequest, shcrkit.ErrUnavailable, shcrkit.ErrInvalidNHSNumber}
	for i := range all {
		for j := range all {
			if i != j && errors.Is(all[i], all[j]) {
				t.Errorf("%v matches %v", all[i], all[j])
			}
		}
	}
}

func TestDesignContractConfidentiality(t *testing.T) {
	var zero shcrkit.Confidentiality
	if zero != shcrkit.ConfidentialityUnrestricted {
		t.Error("zero Confidentiality is not unrestricted")
	}
	if got := shcrkit.ConfidentialityOf(); got != shcrkit.ConfidentialityUnrestricted {
		t.Errorf("missing label = %v, want unrestricted", got)
	}
	sys := "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	code := func(c string) fhir.Coding { return fhir.Coding{System: &sys, Code: &c} }
	for c, want := range map[string]shcrkit.Confidentiality{
		"U":     shcrkit.ConfidentialityUnrestricted,
		"R":     shcrkit.ConfidentialityRestricted,
		"V":     shcrkit.ConfidentialityVeryRestricted,
		"BOGUS": shcrkit.ConfidentialityVeryRestricted,
	} {
		if got := shcrkit.ConfidentialityOf(code(c)); got != want {
			t.Errorf("ConfidentialityOf(%s) = %v, want %v", c, got, want)
		}
	}
}

func TestDesignContractRelationshipKind(t *testing.T) {
	var k shcrkit.RelationshipKind
	_ = k
}
