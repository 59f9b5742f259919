// Command journey walks through the whole cross-boundary journey against the
// bundled fakes.
package main

import "fmt"

func main() {
	fmt.Println("shcrkit journey: the cross-boundary journey example is being built;")
	fmt.Println("it will trace a patient, locate their records, decide, retrieve and audit.")
}
