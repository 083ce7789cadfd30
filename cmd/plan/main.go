// Command plan runs the saas-platform program offline, under mocks, and
// prints what it would register: no Pulumi CLI, plugins or AWS credentials
// needed. Invalid stack config exits 1 with the message on stderr. --cost
// adds the estimated monthly cost.
//
//	go run ./cmd/plan --stack dev
//	go run ./cmd/plan --stack dev --cost
//	go run ./cmd/plan --config path/to/Pulumi.x.yaml --stack x --format json
package main

import (
	"os"

	"github.com/saas-platform/saas-platform/internal/cost"
	"github.com/saas-platform/saas-platform/internal/plan"
)

func main() {
	os.Exit(plan.MainWithCost(os.Args[1:], os.Stdout, os.Stderr, cost.Report))
}
