package shcrkit_test

import (
	"errors"
	"fmt"

	"github.com/shcrkit/shcrkit"
)

func ExampleParseNHSNumber() {
	n, err := shcrkit.ParseNHSNumber("943-476-5919")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n, n.Format(), n.Masked())

	_, err = shcrkit.ParseNHSNumber("943 476 5918")
	fmt.Println(errors.Is(err, shcrkit.ErrInvalidNHSNumber), err)
	// Output:
	// 9434765919 943 476 5919 943****919
	// true shcrkit: invalid NHS number: check digit does not match
}

func ExampleAPIError() {
	var err error = &shcrkit.APIError{StatusCode: 404, Code: "INVALIDATED_RESOURCE", RequestID: "req-1"}
	fmt.Println(errors.Is(err, shcrkit.ErrNotFound), errors.Is(err, shcrkit.ErrInvalidated))
	fmt.Println(err)
	// Output:
	// true true
	// shcrkit: HTTP 404 Not Found (INVALIDATED_RESOURCE) [request req-1]
}
