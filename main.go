// Command saas-platform is the Pulumi program that provisions one
// environment of the multi-tenant SaaS platform on AWS. Run it with
// `pulumi up -s <stack>`; components/platform holds the program itself so
// that the offline plan and the tests run exactly the same code.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/components/platform"
)

func main() {
	pulumi.Run(platform.Program)
}
