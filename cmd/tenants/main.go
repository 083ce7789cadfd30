// Command tenants adds, moves and removes a stack's tenants by editing its
// stack file in place, after checking the change as the program would and
// printing what it creates, replaces and deletes. No Pulumi CLI, plugins or
// AWS credentials needed.
//
//	go run ./cmd/tenants --stack prod add acme --plan premium
//	go run ./cmd/tenants --stack prod set-plan acme enterprise
//	go run ./cmd/tenants --stack prod remove acme [--drop-data]
//	go run ./cmd/tenants --stack prod list [--previous outputs.json]
package main

import (
	"os"

	"github.com/saas-platform/saas-platform/internal/tenants"
)

func main() {
	// No cost estimate yet: a tenants.CostFunc over the offline plan goes
	// here once the project has one, and the command prints the difference.
	os.Exit(tenants.Main(os.Args[1:], os.Stdout, os.Stderr, nil))
}
