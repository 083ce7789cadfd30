package platform

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
)

// previousDeployment reads what the last deployment of this stack recorded
// in its outputs, through a stack reference to the stack itself: the
// engine answers with the last saved outputs (none on a first deployment).
// It is a read, not a resource: nothing is registered before the checks.
func previousDeployment(ctx *pulumi.Context) (*config.Deployed, error) {
	org := ctx.Organization()
	if org == "" {
		org = "organization" // the self-managed backends' organization
	}
	name := fmt.Sprintf("%s/%s/%s", org, ctx.Project(), ctx.Stack())
	ref, err := pulumi.NewStackReference(ctx, "previous-deployment", &pulumi.StackReferenceArgs{Name: pulumi.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment of %s: %w", name, err)
	}
	tenants, err := ref.GetOutputDetails(OutputTenants)
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment's tenants: %w", err)
	}
	cluster, err := ref.GetOutputDetails(OutputCacheClusterMode)
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment's cache: %w", err)
	}
	cacheMode, err := ref.GetOutputDetails(OutputCacheMode)
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment's cache mode: %w", err)
	}
	deployed, err := config.DeployedFrom(tenants.Value, cluster.Value, cacheMode.Value)
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment of %s: %w", name, err)
	}
	return deployed, nil
}
