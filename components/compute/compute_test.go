package compute_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/compute"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	serviceType  = "aws:ecs/service:Service"
	taskDefType  = "aws:ecs/taskDefinition:TaskDefinition"
	ruleType     = "aws:lb/listenerRule:ListenerRule"
	listenerType = "aws:lb/listener:Listener"
	policyType   = "aws:iam/rolePolicy:RolePolicy"
)

// workloads are DESIGN.md's services.
const workloads = `[
	{"name":"api","port":3000,"healthCheckPath":"/api/health","paths":["/api/*"],"priority":200,"maxCount":10},
	{"name":"collaboration","port":3001,"healthCheckPath":"/api/collaboration/health","paths":["/api/collaboration/*","/socket.io/*"],"priority":100,"websockets":true},
	{"name":"dashboard","port":80,"healthCheckPath":"/","paths":["/*"],"priority":1000,"image":"public.ecr.aws/nginx/nginx:1.27"},
	{"name":"notification","port":3003},
	{"name":"analytics","port":3002,"capacity":"spot"},
	{"name":"update","schedule":"cron(0/15 * * * ? *)"}
]`

func stack(t *testing.T, sizing, services string) *config.Stack {
	t.Helper()
	values := map[string]string{
		"aws:region":             "ap-northeast-1",
		"saas-platform:sizing":   sizing,
		"saas-platform:services": services,
	}
	if sizing == "prod" {
		values["saas-platform:domain"] = `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`
	}
	s, err := config.Parse("saas-platform", sizing, values)
	require.NoError(t, err)
	return s
}

func build(t *testing.T, s *config.Stack) []plan.Resource {
	t.Helper()
	mocks := plan.NewMocks(s.Project, s.Name, s.Region)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := compute.NewCompute(ctx, "env", &compute.ComputeArgs{
			Project: s.Project, Environment: s.Name, Region: s.Region, PathPrefix: "/saas-platform/" + s.Name,
			KeyArn: pulumi.String("arn:aws:kms:ap-northeast-1:123456789012:key/k"),
			Network: compute.NetworkInputs{
				VpcId:                       pulumi.String("vpc-1"),
				PublicSubnetIds:             pulumi.ToStringArray([]string{"subnet-public-a", "subnet-public-b"}),
				PrivateSubnetIds:            pulumi.ToStringArray([]string{"subnet-private-a", "subnet-private-b"}),
				LoadBalancerSecurityGroupId: pulumi.String("sg-lb"),
				ServiceSecurityGroupId:      pulumi.String("sg-services"),
			},
			Data: compute.DataInputs{
				DatabaseSecretArn:  pulumi.String("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-shared"),
				CacheAuthSecretArn: pulumi.String("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:cache-auth"),
				TenantSecretsArn:   "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-platform/" + s.Name + "/tenants/*",
				SiloSecretArns:     pulumi.ToStringArray([]string{"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-acme"}),
			},
			Services: s.Services, ImageTag: "dev-abc123", DefaultCapacity: s.Compute.Capacity,
			ContainerInsights: s.Compute.ContainerInsights, LoadBalancer: s.LoadBalancer,
			CertificateArn: s.Domain.CertificateArn, LogRetentionDays: s.Logs.RetentionDays,
			Protect: s.DataProtection.Protect,
		})
		return err
	}, pulumi.WithMocks(s.Project, s.Name, mocks))
	require.NoError(t, err)
	return mocks.Resources()
}

type share struct {
	Provider string
	Base     float64
	Weight   float64
}

func strategy(r plan.Resource, path string) []share {
	var out []share
	for i := range r.Count(path) {
		prefix := fmt.Sprintf("%s.%d", path, i)
		out = append(out, share{r.String(prefix + ".capacityProvider"), r.Number(prefix + ".base"), r.Number(prefix + ".weight")})
	}
	return out
}

func TestTheCapacityTable(t *testing.T) {
	cases := []struct {
		capacity string
		min      int
		want     []compute.Share
	}{
		{config.CapacityOnDemand, 2, []compute.Share{{Provider: "FARGATE", Weight: 1}}},
		{config.CapacitySpot, 2, []compute.Share{{Provider: "FARGATE_SPOT", Weight: 1}}},
		{config.CapacityBalanced, 3, []compute.Share{{Provider: "FARGATE", Base: 2, Weight: 1}, {Provider: "FARGATE_SPOT", Weight: 4}}},
		{config.CapacityBalanced, 1, []compute.Share{{Provider: "FARGATE", Base: 1, Weight: 1}, {Provider: "FARGATE_SPOT", Weight: 4}}},
		{config.CapacityBalanced, 0, []compute.Share{{Provider: "FARGATE", Base: 0, Weight: 1}, {Provider: "FARGATE_SPOT", Weight: 4}}},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, compute.Strategy(tc.capacity, tc.min), "%s with minimum %d", tc.capacity, tc.min)
	}
}

func TestServicesUseTheirCapacityStrategyAndNeverALaunchType(t *testing.T) {
	balanced := []share{{"FARGATE", 2, 1}, {"FARGATE_SPOT", 0, 4}}
	spot := []share{{"FARGATE_SPOT", 0, 1}}
	cases := []struct {
		sizing string
		want   map[string][]share
	}{
		{"dev", map[string][]share{"api": spot, "collaboration": spot, "dashboard": spot, "notification": spot, "analytics": spot}},
		{"prod", map[string][]share{"api": balanced, "collaboration": balanced, "dashboard": balanced, "notification": balanced, "analytics": spot}},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			resources := build(t, stack(t, tc.sizing, workloads))
			got := map[string][]share{}
			for _, svc := range plan.OfType(resources, serviceType) {
				got[svc.Name] = strategy(svc, "capacityProviderStrategies")
				assert.Nil(t, svc.Input("launchType"), "%s sets a launch type", svc.Name)
			}
			assert.Equal(t, tc.want, got)

			clusters := plan.OfType(resources, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
			require.Len(t, clusters, 1)
			assert.Equal(t, []string{"FARGATE", "FARGATE_SPOT"}, clusters[0].Strings("capacityProviders"))
		})
	}
}

func TestEveryServiceRunsPrivatelyAndRollsBackAFailedDeployment(t *testing.T) {
	resources := build(t, stack(t, "prod", workloads))
	services := plan.OfType(resources, serviceType)
	require.Len(t, services, 5, "the scheduled task is not a service")
	for _, svc := range services {
		assert.False(t, svc.Bool("networkConfiguration.assignPublicIp"), svc.Name)
		assert.Equal(t, []string{"subnet-private-a", "subnet-private-b"}, svc.Strings("networkConfiguration.subnets"), svc.Name)
		assert.Equal(t, []string{"sg-services"}, svc.Strings("networkConfiguration.securityGroups"), svc.Name)
		assert.True(t, svc.Bool("deploymentCircuitBreaker.enable"), svc.Name)
		assert.True(t, svc.Bool("deploymentCircuitBreaker.rollback"), svc.Name)
		assert.Equal(t, []string{"desiredCount"}, svc.Options.IgnoreChanges, "%s autoscales", svc.Name)
		deps := strings.Join(svc.Dependencies, " ")
		assert.Contains(t, deps, "ClusterCapacityProviders", svc.Name)
		assert.Contains(t, deps, "aws:lb/listener:Listener", "%s waits for the listener", svc.Name)
		if svc.Input("loadBalancers") != nil {
			assert.Contains(t, deps, "aws:lb/listenerRule:ListenerRule::"+svc.Name, "%s waits until its target group is attached", svc.Name)
		}
	}
	for _, target := range plan.OfType(resources, "aws:cloudwatch/eventTarget:EventTarget") {
		assert.False(t, target.Bool("ecsTarget.networkConfiguration.assignPublicIp"))
	}
}

func TestInDevOnlyAServiceThatAsksForAMaximumAutoscales(t *testing.T) {
	resources := build(t, stack(t, "dev", workloads))
	for _, svc := range plan.OfType(resources, serviceType) {
		assert.Equal(t, 1.0, svc.Number("desiredCount"), svc.Name)
		if svc.Name == "api" {
			assert.Equal(t, []string{"desiredCount"}, svc.Options.IgnoreChanges, "api sets maxCount: 10")
			continue
		}
		assert.Empty(t, svc.Options.IgnoreChanges, svc.Name)
	}
	targets := plan.OfType(resources, "aws:appautoscaling/target:Target")
	require.Len(t, targets, 1)
	assert.Equal(t, "api", targets[0].Name)
}

func TestEachRoutedServiceGetsOneRuleWithItsPathsAndPriority(t *testing.T) {
	resources := build(t, stack(t, "prod", workloads))
	type route struct {
		priority float64
		paths    []string
	}
	got := map[string]route{}
	https, ok := plan.Named(resources, listenerType, "env-https")
	require.True(t, ok)
	for _, r := range plan.OfType(resources, ruleType) {
		got[r.Name] = route{r.Number("priority"), r.Strings("conditions.0.pathPattern.values")}
		assert.Contains(t, r.String("listenerArn"), "listener/app/env-https", "rules sit on the HTTPS listener")
	}
	assert.Equal(t, map[string]route{
		"api":           {200, []string{"/api/*"}},
		"collaboration": {100, []string{"/api/collaboration/*", "/socket.io/*"}},
		"dashboard":     {1000, []string{"/*"}},
	}, got)
	assert.Equal(t, compute.TLSPolicy, https.String("sslPolicy"))
	assert.Equal(t, "forward", https.String("defaultActions.0.type"), "the service routing /* is the default")

	http, ok := plan.Named(resources, listenerType, "env-http")
	require.True(t, ok)
	assert.Equal(t, "redirect", http.String("defaultActions.0.type"))
	assert.Equal(t, "HTTPS", http.String("defaultActions.0.redirect.protocol"))
}

func TestWithoutACatchAllServiceTheDefaultIsANotFound(t *testing.T) {
	resources := build(t, stack(t, "dev", `[{"name":"api","port":3000,"healthCheckPath":"/h","paths":["/api/*"],"priority":5}]`))
	listeners := plan.OfType(resources, listenerType)
	require.Len(t, listeners, 1, "dev without a certificate serves HTTP only")
	assert.Equal(t, "fixed-response", listeners[0].String("defaultActions.0.type"))
	assert.Equal(t, "404", listeners[0].String("defaultActions.0.fixedResponse.statusCode"))
}

func TestTheLoadBalancerIsHardenedPerPreset(t *testing.T) {
	cases := []struct {
		sizing          string
		protected, logs bool
		wafs            int
	}{
		{"dev", false, false, 0},
		{"prod", true, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			resources := build(t, stack(t, tc.sizing, workloads))
			lbs := plan.OfType(resources, "aws:lb/loadBalancer:LoadBalancer")
			require.Len(t, lbs, 1)
			alb := lbs[0]
			assert.True(t, alb.Bool("dropInvalidHeaderFields"))
			assert.Equal(t, tc.protected, alb.Bool("enableDeletionProtection"))
			assert.Equal(t, tc.logs, alb.Bool("accessLogs.enabled"))
			assert.Equal(t, []string{"subnet-public-a", "subnet-public-b"}, alb.Strings("subnets"))
			assert.Equal(t, 3600.0, alb.Number("idleTimeout"), "a WebSocket service needs long idle connections")

			assert.Len(t, plan.OfType(resources, "aws:wafv2/webAcl:WebAcl"), tc.wafs)
			assert.Len(t, plan.OfType(resources, "aws:wafv2/webAclAssociation:WebAclAssociation"), tc.wafs)
			for _, acl := range plan.OfType(resources, "aws:wafv2/webAcl:WebAcl") {
				var rules []struct {
					Statement struct {
						ManagedRuleGroupStatement *struct{ Name string }
						RateBasedStatement        *struct{ Limit float64 }
					}
				}
				require.NoError(t, json.Unmarshal([]byte(acl.String("ruleJson")), &rules))
				require.Len(t, rules, 2)
				assert.Equal(t, "AWSManagedRulesCommonRuleSet", rules[0].Statement.ManagedRuleGroupStatement.Name)
				assert.Equal(t, 2000.0, rules[1].Statement.RateBasedStatement.Limit)
			}
			for _, bucket := range plan.OfType(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") {
				assert.True(t, bucket.Bool("blockPublicPolicy"))
				assert.True(t, bucket.Bool("restrictPublicBuckets"))
			}

			collab, ok := plan.Named(resources, "aws:lb/targetGroup:TargetGroup", "collaboration")
			require.True(t, ok)
			assert.True(t, collab.Bool("stickiness.enabled"))
			assert.Equal(t, "ip", collab.String("targetType"))
			assert.Equal(t, "/api/collaboration/health", collab.String("healthCheck.path"))
			assert.Equal(t, 30.0, collab.Number("healthCheck.interval"))
			api, _ := plan.Named(resources, "aws:lb/targetGroup:TargetGroup", "api")
			assert.False(t, api.Bool("stickiness.enabled"))
		})
	}
}

type container struct {
	Name        string
	Image       string
	Environment []struct{ Name, Value string }
	Secrets     []struct{ Name, ValueFrom string }
	HealthCheck *struct{ Command []string }
	LogConfig   struct {
		LogDriver string
		Options   map[string]string
	} `json:"logConfiguration"`
}

func containers(t *testing.T, resources []plan.Resource) map[string]container {
	out := map[string]container{}
	for _, td := range plan.OfType(resources, taskDefType) {
		var defs []container
		require.NoError(t, json.Unmarshal([]byte(td.String("containerDefinitions")), &defs))
		require.Len(t, defs, 1)
		out[defs[0].Name] = defs[0]
	}
	return out
}

func TestContainersGetSecretsInjectedAndLogToTheirOwnGroup(t *testing.T) {
	resources := build(t, stack(t, "prod", workloads))
	all := containers(t, resources)
	require.Len(t, all, 6)
	for name, c := range all {
		secrets := map[string]string{}
		for _, s := range c.Secrets {
			secrets[s.Name] = s.ValueFrom
		}
		assert.NotContains(t, secrets, "DATABASE_PASSWORD", "%s: RDS rotates it, so it is read at runtime, not injected at start", name)
		assert.Equal(t, "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:cache-auth", secrets["REDIS_AUTH_TOKEN"], name)
		env := map[string]string{}
		for _, e := range c.Environment {
			env[e.Name] = e.Value
		}
		assert.Equal(t, "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-shared", env["DATABASE_SECRET_ARN"], name)
		assert.Equal(t, "arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/prod/database/host", secrets["DATABASE_HOST"], name)
		for _, e := range c.Environment {
			assert.NotContains(t, strings.ToUpper(e.Name), "PASSWORD", name)
			assert.NotContains(t, strings.ToUpper(e.Name), "TOKEN", name)
		}
		assert.Equal(t, "awslogs", c.LogConfig.LogDriver, name)
		assert.Equal(t, "/saas-platform/prod/services/"+name, c.LogConfig.Options["awslogs-group"], name)
	}
	assert.Equal(t, "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/saas-platform/prod/api:dev-abc123", all["api"].Image,
		"no image of its own: its repository at the image tag")
	assert.Equal(t, "public.ecr.aws/nginx/nginx:1.27", all["dashboard"].Image)
	require.NotNil(t, all["api"].HealthCheck)
	assert.Equal(t, []string{"CMD-SHELL", "curl -f http://localhost:3000/api/health || exit 1"}, all["api"].HealthCheck.Command)
	assert.Nil(t, all["update"].HealthCheck, "a scheduled task has no port to check")
}

type statement struct {
	Sid      string
	Action   []string
	Resource []string
}

func policy(t *testing.T, resources []plan.Resource, name string) map[string]statement {
	t.Helper()
	p, ok := plan.Named(resources, policyType, name)
	require.True(t, ok, name)
	var doc struct{ Statement []statement }
	require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc))
	out := map[string]statement{}
	for _, s := range doc.Statement {
		out[s.Sid] = s
	}
	return out
}

func TestTaskRolesReachOnlyTheirOwnEnvironment(t *testing.T) {
	resources := build(t, stack(t, "prod", workloads))
	unscoped := map[string]bool{"Traces": true, "RegistryLogin": true}
	for _, s := range plan.OfType(resources, serviceType) {
		task := policy(t, resources, s.Name+"-task")
		assert.Equal(t, []string{
			"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/prod",
			"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/prod/*",
		}, task["EnvironmentParameters"].Resource, s.Name)
		assert.Equal(t, []string{
			"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-shared",
			"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-platform/prod/tenants/*",
			"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-acme",
		}, task["DatabaseCredentials"].Resource, s.Name)
		assert.NotContains(t, task, "ExecuteCommandChannels", "%s: ECS Exec is off unless asked for", s.Name)
		assert.False(t, s.Bool("enableExecuteCommand"), s.Name)
		assert.ElementsMatch(t, []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, task["Traces"].Action)
		for _, doc := range []map[string]statement{task, policy(t, resources, s.Name+"-execution")} {
			for sid, st := range doc {
				if unscoped[sid] {
					continue
				}
				for _, r := range st.Resource {
					assert.NotEqual(t, "*", r, "%s %s", s.Name, sid)
				}
			}
		}
		exec := policy(t, resources, s.Name+"-execution")
		assert.Equal(t, []string{"arn:aws:ecr:ap-northeast-1:123456789012:repository/saas-platform/prod/" + s.Name}, exec["PullOwnImage"].Resource)
	}
}

func TestAutoscalingKeepsServicesBetweenTheirBoundsOnCPUMemoryAndRequests(t *testing.T) {
	resources := build(t, stack(t, "prod", workloads))
	bounds := map[string][2]float64{}
	for _, target := range plan.OfType(resources, "aws:appautoscaling/target:Target") {
		bounds[target.Name] = [2]float64{target.Number("minCapacity"), target.Number("maxCapacity")}
	}
	assert.Equal(t, map[string][2]float64{
		"api": {2, 10}, "collaboration": {2, 8}, "dashboard": {2, 8}, "notification": {2, 8}, "analytics": {2, 8},
	}, bounds)

	targets := map[string]float64{}
	for _, p := range plan.OfType(resources, "aws:appautoscaling/policy:Policy") {
		targets[p.Name] = p.Number("targetTrackingScalingPolicyConfiguration.targetValue")
	}
	assert.Equal(t, 70.0, targets["api-cpu"])
	assert.Equal(t, 80.0, targets["api-memory"])
	assert.Equal(t, 1000.0, targets["api-requests"])
	assert.NotContains(t, targets, "notification-requests", "an internal service has no requests to count")
}

func TestEveryServiceHasAScannedEncryptedRepository(t *testing.T) {
	resources := build(t, stack(t, "dev", workloads))
	var names []string
	for _, repo := range plan.OfType(resources, "aws:ecr/repository:Repository") {
		names = append(names, repo.String("name"))
		assert.True(t, repo.Bool("imageScanningConfiguration.scanOnPush"))
		assert.Equal(t, "KMS", repo.String("encryptionConfigurations.0.encryptionType"))
		assert.Equal(t, "IMMUTABLE", repo.String("imageTagMutability"))
	}
	sort.Strings(names)
	assert.Equal(t, []string{
		"saas-platform/dev/analytics", "saas-platform/dev/api", "saas-platform/dev/collaboration",
		"saas-platform/dev/dashboard", "saas-platform/dev/notification", "saas-platform/dev/update",
	}, names)
	for _, lp := range plan.OfType(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy") {
		assert.Contains(t, lp.String("policy"), `"countNumber":30`)
	}
}

func TestInternalServicesAreFoundByNameAndScheduledTasksRunOnTheirSchedule(t *testing.T) {
	resources := build(t, stack(t, "dev", workloads))
	namespaces := plan.OfType(resources, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
	require.Len(t, namespaces, 1)
	assert.Equal(t, "dev.saas-platform.internal", namespaces[0].String("name"))
	var registered []string
	for _, r := range plan.OfType(resources, "aws:servicediscovery/service:Service") {
		registered = append(registered, r.String("name"))
	}
	assert.ElementsMatch(t, []string{"notification", "analytics"}, registered)

	rules := plan.OfType(resources, "aws:cloudwatch/eventRule:EventRule")
	require.Len(t, rules, 1)
	assert.Equal(t, "cron(0/15 * * * ? *)", rules[0].String("scheduleExpression"))
	run := policy(t, resources, "update-schedule")
	assert.Equal(t, []string{"arn:aws:ecs:ap-northeast-1:123456789012:task-definition/saas-platform-dev-update:*"}, run["RunThisTask"].Resource)
}

func TestECSExecIsAnOptInWithTheAccessItNeeds(t *testing.T) {
	resources := build(t, stack(t, "dev", `[{"name":"api","port":3000,"readOnlyRootFilesystem":false,"executeCommand":true}]`))
	svc, ok := plan.Named(resources, serviceType, "api")
	require.True(t, ok)
	assert.True(t, svc.Bool("enableExecuteCommand"))
	task := policy(t, resources, "api-task")
	assert.Equal(t, []string{"arn:aws:kms:ap-northeast-1:123456789012:key/k"}, task["ExecuteCommandSessionKey"].Resource)
	assert.Equal(t, []string{"arn:aws:logs:ap-northeast-1:123456789012:log-group:/saas-platform/dev/ecs/exec:*"}, task["ExecuteCommandLogs"].Resource)
	assert.Contains(t, task["ExecuteCommandChannels"].Action, "ssmmessages:OpenDataChannel")
}
