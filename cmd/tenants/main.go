// Command tenants adds, moves and removes a stack's tenants by editing its
// stack file in place, after checking the change as the program would and
// printing what it creates, replaces and deletes, and what it costs a month.
// No Pulumi CLI, plugins or AWS credentials needed.
//
//	go run ./cmd/tenants --stack prod add acme --plan premium
//	go run ./cmd/tenants --stack prod set-plan acme enterprise
//	go run ./cmd/tenants --stack prod remove acme [--drop-data]
//	go run ./cmd/tenants --stack prod list [--previous outputs.json]
package main

import (
	"os"

	"github.com/saas-platform/saas-platform/internal/cost"
	"github.com/saas-platform/saas-platform/internal/plan"
	"github.com/saas-platform/saas-platform/internal/tenants"
)

// monthly is the cost estimate's monthly total of a plan.
func monthly(result *plan.Result) (float64, error) {
	est, err := cost.Of(result)
	if err != nil {
		return 0, err
	}
	return est.Monthly, nil
}

func main() {
	os.Exit(tenants.Main(os.Args[1:], os.Stdout, os.Stderr, monthly))
}
