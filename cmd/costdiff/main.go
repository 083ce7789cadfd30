// Command costdiff prints, as Markdown, how the estimated monthly cost
// changes between two JSON plans (main and a pull request), or what moving
// a tenant to another plan costs.
//
//	go run ./cmd/plan --stack dev --cost --format json > after.json
//	go run ./cmd/costdiff --title dev before.json after.json
//	go run ./cmd/costdiff --stack prod --tenant umbrella=enterprise
package main

import (
	"os"

	"github.com/saas-platform/saas-platform/internal/cost"
)

func main() {
	os.Exit(cost.DiffMain(os.Args[1:], os.Stdout, os.Stderr))
}
