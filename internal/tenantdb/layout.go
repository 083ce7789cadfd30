package tenantdb

import (
	"fmt"
	"strings"
)

// Layout is where a stack keeps its tenants' credentials and connection
// facts. The deployment (for stack-file tenants) and the onboarding
// worker (for run-time ones) both name them here, so that an application
// finds every tenant the same way.
type Layout struct {
	// PathPrefix is the environment's path, /<project>/<stack>.
	PathPrefix string
}

// SecretName is a tenant's credentials secret:
// <project>/<stack>/tenants/<id>/database.
func (l Layout) SecretName(id string) string {
	return strings.TrimPrefix(l.PathPrefix, "/") + "/tenants/" + id + "/database"
}

// ParameterPath holds a tenant's SSM facts: /<project>/<stack>/tenants/<id>.
func (l Layout) ParameterPath(id string) string {
	return l.PathPrefix + "/tenants/" + id
}

// PoolDescription describes a pool tenant's secret and facts.
func PoolDescription(id, plan, pool string) string {
	return fmt.Sprintf("Tenant %s (%s): PostgreSQL in pool %s", id, plan, pool)
}

// PoolTags are the tags of what the provisioner makes for a pool tenant.
func PoolTags(id, plan, pool string) map[string]string {
	return map[string]string{"TenantId": id, "Plan": plan, "Pool": pool}
}
