package platform

import (
	"encoding/json"
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
	deployed := &config.Deployed{Tenants: map[string]config.DeployedTenant{}}

	tenants, err := ref.GetOutputDetails(OutputTenants)
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment's tenants: %w", err)
	}
	if tenants.Value != nil {
		raw, err := json.Marshal(tenants.Value)
		if err != nil {
			return nil, err
		}
		var recorded map[string]struct {
			Plan             string `json:"plan"`
			Isolation        string `json:"isolation"`
			AllocatedStorage int    `json:"allocatedStorage"`
		}
		if err := json.Unmarshal(raw, &recorded); err != nil {
			return nil, fmt.Errorf("the previous deployment's %s output is not a tenant map: %w", OutputTenants, err)
		}
		for id, t := range recorded {
			deployed.Tenants[id] = config.DeployedTenant{
				Plan: t.Plan, Isolation: config.Isolation(t.Isolation), AllocatedStorage: t.AllocatedStorage,
			}
		}
	}

	cluster, err := ref.GetOutputDetails(OutputCacheClusterMode)
	if err != nil {
		return nil, fmt.Errorf("reading the previous deployment's cache: %w", err)
	}
	if mode, ok := cluster.Value.(bool); ok {
		deployed.CacheClusterMode = &mode
	}
	return deployed, nil
}
