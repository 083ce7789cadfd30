package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

// stackConfig resolves Pulumi.<stack>.yaml the way the program does.
func stackConfig(t *testing.T, stack string) *config.Stack {
	return stackConfigFile(t, "../Pulumi."+stack+".yaml", stack)
}

func stackConfigFile(t *testing.T, file, stack string) *config.Stack {
	t.Helper()
	sf, err := config.ReadStackFile(file, "saas-platform")
	require.NoError(t, err)
	cfg, err := config.Parse("saas-platform", stack, sf.Values)
	require.NoError(t, err)
	return cfg
}

func providers(r plan.Resource) map[string][2]float64 {
	out := map[string][2]float64{}
	for i := range r.Count("capacityProviderStrategies") {
		prefix := fmt.Sprintf("capacityProviderStrategies.%d", i)
		out[r.String(prefix+".capacityProvider")] = [2]float64{r.Number(prefix + ".base"), r.Number(prefix + ".weight")}
	}
	return out
}

func TestProdServicesRunOnFargateAndSpotBehindAHardenedLoadBalancer(t *testing.T) {
	result := planStack(t, "prod")
	cfg := stackConfig(t, "prod")

	clusters := plan.OfType(result.Resources, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
	require.Len(t, clusters, 1)
	assert.ElementsMatch(t, []string{"FARGATE", "FARGATE_SPOT"}, clusters[0].Strings("capacityProviders"))

	want := map[string]config.Service{}
	for _, s := range cfg.Services {
		want[s.Name] = s
	}
	services := plan.OfType(result.Resources, "aws:ecs/service:Service")
	require.NotEmpty(t, services)
	for _, svc := range services {
		s := want[svc.Name]
		assert.Nil(t, svc.Input("launchType"), svc.Name)
		assert.False(t, svc.Bool("networkConfiguration.assignPublicIp"), svc.Name)
		assert.True(t, svc.Bool("deploymentCircuitBreaker.rollback"), svc.Name)
		switch s.Capacity {
		case config.CapacityBalanced:
			assert.Equal(t, map[string][2]float64{"FARGATE": {2, 1}, "FARGATE_SPOT": {0, 4}}, providers(svc), svc.Name)
		case config.CapacityOnDemand:
			assert.Equal(t, map[string][2]float64{"FARGATE": {0, 1}}, providers(svc), svc.Name)
		default:
			assert.NotContains(t, providers(svc), "FARGATE", "%s overrides to %s", svc.Name, s.Capacity)
		}
	}

	priorities := map[string]float64{}
	for _, rule := range plan.OfType(result.Resources, "aws:lb/listenerRule:ListenerRule") {
		priorities[rule.Name] = rule.Number("priority")
	}
	wantPriorities := map[string]float64{}
	for _, s := range cfg.Services {
		if s.Routed() {
			wantPriorities[s.Name] = float64(s.Priority)
		}
	}
	assert.Equal(t, wantPriorities, priorities, "one rule per routed service, at the stack file's priority")

	alb := plan.OfType(result.Resources, "aws:lb/loadBalancer:LoadBalancer")
	require.Len(t, alb, 1)
	assert.True(t, alb[0].Bool("enableDeletionProtection"))
	assert.True(t, alb[0].Bool("dropInvalidHeaderFields"))
	assert.Len(t, plan.OfType(result.Resources, "aws:wafv2/webAclAssociation:WebAclAssociation"), 1)
	assert.NotEmpty(t, plan.OfType(result.Resources, "aws:appautoscaling/target:Target"))

	repos := plan.OfType(result.Resources, "aws:ecr/repository:Repository")
	assert.Len(t, repos, len(cfg.Services), "a repository per service")

	for _, td := range plan.OfType(result.Resources, "aws:ecs/taskDefinition:TaskDefinition") {
		var defs []struct {
			LogConfiguration struct{ LogDriver string }
		}
		require.NoError(t, json.Unmarshal([]byte(td.String("containerDefinitions")), &defs))
		for _, d := range defs {
			assert.Equal(t, "awslogs", d.LogConfiguration.LogDriver, td.Name)
		}
	}
}

func TestServicesMayReadExactlyTheTenantSecretsTheDataLayerWrites(t *testing.T) {
	result := planStack(t, "prod")
	var provisioner, service []string
	for _, p := range plan.OfType(result.Resources, "aws:iam/rolePolicy:RolePolicy") {
		for _, s := range statementsOf(t, p) {
			switch {
			case p.Name == "saas-platform-prod-tenant-provisioner" && s.Sid == "TenantCredentials":
				provisioner = s.Resource
			case p.Name == "api-task" && s.Sid == "TenantCredentials":
				service = s.Resource
			}
		}
	}
	require.Len(t, provisioner, 1)
	assert.Equal(t, "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-platform/prod/tenants/*", provisioner[0])
	assert.Empty(t, service, "prod's api does not ask for tenants' credentials, so it cannot read them")

	withAccess, err := planFile(t, writeStackFile(t, strings.Replace(readFile(t, "../Pulumi.prod.yaml"),
		"      metrics: statsd\n", "      metrics: statsd\n      access: [{tenants: read}]\n", 1)), "prod")
	require.NoError(t, err)
	for _, p := range plan.OfType(withAccess.Resources, "aws:iam/rolePolicy:RolePolicy") {
		if p.Name != "api-task" {
			continue
		}
		for _, s := range statementsOf(t, p) {
			if s.Sid == "TenantCredentials" {
				service = s.Resource
			}
		}
	}
	assert.Equal(t, provisioner, service, "a service that asks reads exactly the secrets the provisioner writes")
}

func TestDevServicesRunOnlyOnFargateSpot(t *testing.T) {
	result := planStack(t, "dev")
	services := plan.OfType(result.Resources, "aws:ecs/service:Service")
	require.NotEmpty(t, services)
	for _, svc := range services {
		assert.Equal(t, map[string][2]float64{"FARGATE_SPOT": {0, 1}}, providers(svc), svc.Name)
	}
	assert.Empty(t, plan.OfType(result.Resources, "aws:wafv2/webAcl:WebAcl"))
}
