package report_test

import (
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac/report"
)

func ExampleNewROPA() {
	ropa := report.NewROPA(samplepolicy.Load())
	for _, a := range ropa.Activities {
		fmt.Println(a.Agreement, a.ValidFrom, a.ValidTo, len(a.DataCategories), "categories")
	}
	md := ropa.Markdown()
	fmt.Println(md[:strings.Index(md, "\n")])
	// Output:
	// ISA-QRX-QEM-2025 2025-04-01 2035-03-31 8 categories
	// ISA-QRX-QWH-2026 2026-01-01 2030-12-31 4 categories
	// ISA-QRX-QSD-2027 2027-01-01 2031-12-31 2 categories
	// # Record of processing activities: North Riverside ShCR cross-boundary access policy
}
