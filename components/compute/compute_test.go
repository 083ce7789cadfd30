package compute_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
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
	return stackWith(t, sizing, map[string]string{"saas-platform:services": services})
}

// stackWith parses a stack of the sizing with more stack-file values.
func stackWith(t *testing.T, sizing string, more map[string]string) *config.Stack {
	t.Helper()
	values := map[string]string{
		"aws:region":             "ap-northeast-1",
		"saas-platform:sizing":   sizing,
		"saas-platform:imageTag": "dev-abc123",
	}
	for k, v := range more {
		values[k] = v
	}
	if sizing == "prod" {
		values["saas-platform:domain"] = `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`
	}
	s, err := config.Parse("saas-platform", sizing, values)
	require.NoError(t, err)
	return s
}

// serviceGroups gives every service a security group of its own, named
// sg-<service>.
func serviceGroups(s *config.Stack) map[string]pulumi.StringInput {
	groups := map[string]pulumi.StringInput{}
	for _, svc := range s.Services {
		groups[svc.Name] = pulumi.String("sg-" + svc.Name)
	}
	return groups
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
				ServiceSecurityGroupIds:     serviceGroups(s),
			},
			Data: compute.DataInputs{
				CacheAuthSecretArn: pulumi.String("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:cache-auth"),
				TenantSecretsArn:   "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-platform/" + s.Name + "/tenants/*",
				ServiceLoginSecretArns: map[string]pulumi.StringInput{
					"api":           pulumi.String(loginArn(s.Name, "api")),
					"collaboration": pulumi.String(loginArn(s.Name, "collaboration")),
				},
			},
			Services: s.Services, DefaultCapacity: s.Compute.Capacity,
			ContainerInsights: s.Compute.ContainerInsights, LoadBalancer: s.LoadBalancer,
			Certificate: certificate(s), LogRetentionDays: s.Logs.RetentionDays,
			Protect: s.DataProtection.Protect, WaitForSteadyState: s.Compute.WaitForSteadyState,
			Facts: map[string]pulumi.StringInput{
				config.RefCacheEndpoint: pulumi.String("clustercfg.redis.example:6379"), config.RefCacheHost: pulumi.String("clustercfg.redis.example"),
				config.RefCachePort:    pulumi.String("6379"),
				config.RefDatabaseHost: pulumi.String("db.example"), config.RefDatabasePort: pulumi.String("5432"),
				config.RefDatabaseName: pulumi.String("platform"), config.RefRegion: pulumi.String(s.Region),
				config.RefStack: pulumi.String(s.Name), "buckets.events": pulumi.String("saas-platform-dev-events-abc1234"),
			},
			Buckets: map[string]compute.BucketInputs{"events": {
				Name: pulumi.String("saas-platform-dev-events-abc1234"), Arn: pulumi.String("arn:aws:s3:::saas-platform-dev-events-abc1234"),
			}},
		})
		return err
	}, pulumi.WithMocks(s.Project, s.Name, mocks))
	require.NoError(t, err)
	return mocks.Resources()
}

// loginArn is the secret of a service's own database login.
func loginArn(stack, service string) string {
	return "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-platform/" + stack + "/services/" + service + "/database-AbCdEf"
}

// certificate is the stack's given certificate, or nil for HTTP.
func certificate(s *config.Stack) pulumi.StringInput {
	if s.Domain.CertificateArn == "" {
		return nil
	}
	return pulumi.String(s.Domain.CertificateArn)
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
		assert.Equal(t, []string{"sg-" + svc.Name}, svc.Strings("networkConfiguration.securityGroups"), "%s runs in its own group", svc.Name)
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
		assert.Equal(t, []string{"sg-" + target.Name}, target.Strings("ecsTarget.networkConfiguration.securityGroups"),
			"the scheduled task %s runs in its own group", target.Name)
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
	Command     []string
	StopTimeout int
	DependsOn   []struct{ ContainerName, Condition string }
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
		require.NotEmpty(t, defs)
		// The app's container comes first; sidecars follow it.
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
		assert.NotContains(t, secrets, "DATABASE_PASSWORD", name)
		assert.NotContains(t, secrets, "REDIS_AUTH_TOKEN", "%s: a credential reaches only a service that names it in its secrets", name)
		env := map[string]string{}
		for _, e := range c.Environment {
			env[e.Name] = e.Value
		}
		assert.NotContains(t, env, "DATABASE_SECRET_ARN", "%s: the master secret is the provisioner's", name)
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
	assert.Equal(t, []string{"CMD-SHELL",
		"curl -fsS -o /dev/null 'http://localhost:3000/api/health' || wget -q -O /dev/null 'http://localhost:3000/api/health' || exit 1"},
		all["api"].HealthCheck.Command)
	assert.Nil(t, all["update"].HealthCheck, "a scheduled task has no port to check")
}

// grant is one statement of a role policy.
type grant struct {
	Sid       string
	Effect    string
	Action    []string
	Resource  []string
	Condition map[string]map[string][]string
}

// policy reads a role policy's statements by Sid.
func policy(t *testing.T, resources []plan.Resource, name string) map[string]grant {
	t.Helper()
	p, ok := plan.Named(resources, policyType, name)
	require.True(t, ok, name)
	var doc struct{ Statement []grant }
	require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc))
	out := map[string]grant{}
	for _, s := range doc.Statement {
		out[s.Sid] = s
	}
	return out
}

func TestTaskRolesReachOnlyTheirOwnEnvironment(t *testing.T) {
	resources := build(t, stack(t, "prod", workloads))
	unscoped := map[string]bool{"Traces": true, "RegistryLogin": true, "Metrics": true}
	for _, s := range plan.OfType(resources, serviceType) {
		task := policy(t, resources, s.Name+"-task")
		assert.Equal(t, []string{
			"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/prod",
			"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/prod/*",
		}, task["EnvironmentParameters"].Resource, s.Name)
		assert.NotContains(t, task, "TenantCredentials", "%s: tenants' credentials only for a service that asks", s.Name)
		for sid, st := range task {
			assert.NotContains(t, st.Action, "secretsmanager:GetSecretValue", "%s %s: no secret is read at runtime unless asked", s.Name, sid)
		}
		assert.NotContains(t, task, "ExecuteCommandChannels", "%s: ECS Exec is off unless asked for", s.Name)
		assert.False(t, s.Bool("enableExecuteCommand"), s.Name)
		assert.ElementsMatch(t, []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"},
			task["Traces"].Action, "%s: the prod preset traces every service", s.Name)
		for _, doc := range []map[string]grant{task, policy(t, resources, s.Name+"-execution")} {
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

func TestEveryLongRunningServiceIsFoundByNameAndScheduledTasksRunOnTheirSchedule(t *testing.T) {
	resources := build(t, stack(t, "dev", workloads))
	namespaces := plan.OfType(resources, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
	require.Len(t, namespaces, 1)
	assert.Equal(t, "dev.saas-platform.internal", namespaces[0].String("name"))
	var registered []string
	for _, r := range plan.OfType(resources, "aws:servicediscovery/service:Service") {
		registered = append(registered, r.String("name"))
	}
	assert.ElementsMatch(t, []string{"api", "collaboration", "dashboard", "notification", "analytics"}, registered,
		"routed services too: services call each other inside the VPC")
	for _, svc := range plan.OfType(resources, serviceType) {
		assert.NotEmpty(t, svc.String("serviceRegistries.registryArn"), svc.Name)
	}

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

// taskContainers returns every container of one service's task, app first.
func taskContainers(t *testing.T, resources []plan.Resource, service string) []container {
	t.Helper()
	td, ok := plan.Named(resources, taskDefType, service)
	require.True(t, ok, service)
	var defs []container
	require.NoError(t, json.Unmarshal([]byte(td.String("containerDefinitions")), &defs))
	return defs
}

func environmentOf(c container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	return env
}

func secretsOf(c container) map[string]string {
	secrets := map[string]string{}
	for _, s := range c.Secrets {
		secrets[s.Name] = s.ValueFrom
	}
	return secrets
}

// workloadStack is a dev stack whose services use every per-service key.
func workloadStack(t *testing.T, sizing string) *config.Stack {
	t.Helper()
	return stackWith(t, sizing, map[string]string{
		"saas-platform:buckets": `[{"name":"events","versioned":true}]`,
		"saas-platform:services": `[
			{"name":"api","port":3000,"cpu":512,"memory":1024,"healthCheckPath":"/api/health","paths":["/api/*"],"priority":200,
			 "environment":{"LOG_LEVEL":"info","REDIS_CLUSTER_ENDPOINT":"${cache.endpoint}","REDIS_HOST":"${cache.host}",
			                "NOTIFY":"${services.notification.url}/send","SELF":"${services.api.url}","PUBLIC":"${services.api.publicUrl}","DB":"postgres://${database.host}:${database.port}/${database.name}"},
			 "access":[{"tenants":"read"}],
			 "secrets":{"JWT_SECRET":{"generate":true},"DATABASE_URL":"${database.url}","REDIS_PASSWORD":"${cache.authToken}",
			            "WEATHER_API_KEY":{"parameter":"/saas-platform/dev/weather-api-key"},
			            "STRIPE_KEY":{"secret":"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:stripe-AbCdEf","key":"apiKey"}},
			 "tracing":true,"metrics":"statsd","imageTag":"3f2a1bc"},
			{"name":"collaboration","port":3001,"healthCheckPath":"/health","paths":["/socket.io/*"],"priority":100,"websockets":true,
			 "stopTimeout":120,"deregistrationDelay":120,"architecture":"arm64","capacity":"onDemand",
			 "secrets":{"JWT_SECRET":{"generate":true},"PARTNER_TOKEN":{"secret":"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:partner"},
			            "DATABASE":"${database.secret}"}},
			{"name":"notification","port":3003,"access":[{"sendEmail":{"from":"noreply@example.com"}}],
			 "policyStatements":[{"sid":"Jobs","action":"sqs:SendMessage","resource":"arn:aws:sqs:ap-northeast-1:123456789012:jobs"}]},
			{"name":"analytics","port":3002,"environment":{"EVENTS":"${buckets.events}"},
			 "access":[{"bucket":"events","mode":"readWrite"}],"command":["node","server.js"]}]`,
	})
}

func TestEnvironmentReferencesResolveToPlatformFactsAndServiceURLs(t *testing.T) {
	resources := build(t, workloadStack(t, "dev"))
	api := environmentOf(taskContainers(t, resources, "api")[0])
	assert.Equal(t, "info", api["LOG_LEVEL"])
	assert.Equal(t, "clustercfg.redis.example:6379", api["REDIS_CLUSTER_ENDPOINT"], "${cache.endpoint} is host:port, a cluster client's seed")
	assert.Equal(t, "postgres://db.example:5432/platform", api["DB"], "several references in one value")
	assert.Equal(t, "http://notification.dev.saas-platform.internal:3003/send", api["NOTIFY"], "an internal service by its Cloud Map name")
	assert.Equal(t, "http://api.dev.saas-platform.internal:3000", api["SELF"],
		"a routed service's url is private too: calls between services never pass the load balancer")
	assert.Regexp(t, `^http://saas-platform-dev-[0-9a-f]+\.ap-northeast-1\.elb\.amazonaws\.com$`, api["PUBLIC"],
		"its publicUrl is the load balancer's; plain HTTP without a certificate")
	assert.Equal(t, "saas-platform-dev-events-abc1234", environmentOf(taskContainers(t, resources, "analytics")[0])["EVENTS"])
	assert.NotContains(t, api, "REDIS_HOST", "the platform injects it from SSM; the same reference adds nothing")

	// Every name the platform sets is in config's list, which validation
	// checks stack-file names against.
	for name := range api {
		_, platform := config.PlatformEnvironment[name]
		stackFile := map[string]bool{"LOG_LEVEL": true, "REDIS_CLUSTER_ENDPOINT": true, "NOTIFY": true, "SELF": true, "PUBLIC": true, "DB": true}[name]
		assert.True(t, platform || stackFile, "%s is set by the platform but not listed in config.PlatformEnvironment", name)
	}
	for name := range secretsOf(taskContainers(t, resources, "api")[0]) {
		_, platform := config.PlatformEnvironment[name]
		own := map[string]bool{"JWT_SECRET": true, "WEATHER_API_KEY": true, "STRIPE_KEY": true, "DATABASE_URL": true, "REDIS_PASSWORD": true}[name]
		assert.True(t, platform || own, "%s is injected by the platform but not listed in config.PlatformEnvironment", name)
	}
}

func TestServiceSecretsAreInjectedAndEachExecutionRoleReadsExactlyItsOwn(t *testing.T) {
	resources := build(t, workloadStack(t, "dev"))
	generated := plan.OfType(resources, "aws:secretsmanager/secret:Secret")
	require.Len(t, generated, 1, "api and collaboration share one generated JWT_SECRET")
	assert.Equal(t, "saas-platform/dev/generated/JWT_SECRET", generated[0].String("name"))
	assert.Equal(t, "arn:aws:kms:ap-northeast-1:123456789012:key/k", generated[0].String("kmsKeyId"))
	assert.Equal(t, 0.0, generated[0].Number("recoveryWindowInDays"), "dev deletes at once")
	versions := plan.OfType(resources, "aws:secretsmanager/secretVersion:SecretVersion")
	require.Len(t, versions, 1)
	assert.Equal(t, "[secret]", versions[0].Input("secretString"), "the value is a Pulumi secret")
	jwtArn := "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-platform/dev/generated/JWT_SECRET-AbCdEf"

	api := secretsOf(taskContainers(t, resources, "api")[0])
	assert.Equal(t, jwtArn, api["JWT_SECRET"])
	assert.Equal(t, "arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/weather-api-key", api["WEATHER_API_KEY"])
	assert.Equal(t, "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:stripe-AbCdEf:apiKey::", api["STRIPE_KEY"])
	assert.Equal(t, loginArn("dev", "api")+":url::", api["DATABASE_URL"], "${database.url} is the url key of the service's own login")
	assert.Equal(t, "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:cache-auth", api["REDIS_PASSWORD"])
	assert.Equal(t, loginArn("dev", "collaboration"), secretsOf(taskContainers(t, resources, "collaboration")[0])["DATABASE"],
		"${database.secret} is the whole JSON secret of the service's own login")

	exec := policy(t, resources, "api-execution")
	assert.ElementsMatch(t, []string{
		"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:cache-auth", jwtArn,
		"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:stripe-AbCdEf", loginArn("dev", "api"),
	}, exec["InjectedSecrets"].Resource)
	assert.ElementsMatch(t, []string{
		"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/database/host",
		"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/database/port",
		"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/cache/endpoint",
		"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/cache/port",
		"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/weather-api-key",
		"arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/services/api/cloudwatch-agent",
	}, exec["InjectedParameters"].Resource)

	collaboration := policy(t, resources, "collaboration-execution")
	assert.ElementsMatch(t, []string{
		jwtArn, loginArn("dev", "collaboration"),
		"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:partner-??????",
	}, collaboration["InjectedSecrets"].Resource, "a partial ARN is read with its suffix, and nothing else")
	notification := policy(t, resources, "notification-execution")
	assert.NotContains(t, notification, "InjectedSecrets", "a service that names no secret reads none")

	assert.Equal(t, grant{Sid: "TenantCredentials", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"},
		Resource: []string{"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:saas-platform/dev/tenants/*"}},
		policy(t, resources, "api-task")["TenantCredentials"], "access: [{tenants: read}] grants the tenants' secrets and nothing else")
	for _, name := range []string{"collaboration", "notification", "analytics"} {
		assert.NotContains(t, policy(t, resources, name+"-task"), "TenantCredentials", "%s did not ask", name)
	}
}

func TestAccessGrantsAndPolicyStatementsBecomeOneStatementEach(t *testing.T) {
	resources := build(t, workloadStack(t, "dev"))
	notification := policy(t, resources, "notification-task")
	assert.Equal(t, grant{Sid: "SendEmail0", Effect: "Allow", Action: []string{"ses:SendEmail", "ses:SendRawEmail"},
		Resource:  []string{"arn:aws:ses:ap-northeast-1:123456789012:identity/*"},
		Condition: map[string]map[string][]string{"StringEquals": {"ses:FromAddress": {"noreply@example.com"}}}}, notification["SendEmail0"])
	assert.Equal(t, grant{Sid: "Jobs", Effect: "Allow", Action: []string{"sqs:SendMessage"},
		Resource: []string{"arn:aws:sqs:ap-northeast-1:123456789012:jobs"}}, notification["Jobs"])
	assert.NotContains(t, notification, "Traces", "X-Ray only for traced services")

	analytics := policy(t, resources, "analytics-task")
	bucket := "arn:aws:s3:::saas-platform-dev-events-abc1234"
	assert.Equal(t, []string{bucket, bucket + "/*"}, analytics["Bucket0"].Resource, "the bucket and its objects, nothing else")
	assert.ElementsMatch(t, []string{"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}, analytics["Bucket0"].Action)
	assert.Equal(t, []string{"kms:Decrypt", "kms:GenerateDataKey"}, analytics["BucketEncryption"].Action)
	assert.Equal(t, []string{"s3.ap-northeast-1.amazonaws.com"}, analytics["BucketEncryption"].Condition["StringEquals"]["kms:ViaService"])
	for _, name := range []string{"api", "collaboration", "notification"} {
		for sid := range policy(t, resources, name+"-task") {
			assert.NotContains(t, sid, "Bucket", "%s has no bucket grant", name)
		}
	}
}

func TestTracingAddsTheCollectorAndXRayOnlyToTracedServices(t *testing.T) {
	resources := build(t, workloadStack(t, "dev"))
	api := taskContainers(t, resources, "api")
	require.Len(t, api, 3, "the app, the collector, the CloudWatch agent")
	assert.Equal(t, compute.CollectorContainer, api[1].Name)
	assert.Regexp(t, `^public\.ecr\.aws/aws-observability/aws-otel-collector:v[0-9.]+$`, api[1].Image, "a pinned collector")
	assert.Equal(t, []string{"--config=/etc/ecs/ecs-xray.yaml"}, api[1].Command)
	assert.Equal(t, []struct{ ContainerName, Condition string }{{compute.CollectorContainer, "START"}}, api[0].DependsOn,
		"the app starts after the collector")
	assert.Equal(t, "http://localhost:4317", environmentOf(api[0])["OTEL_EXPORTER_OTLP_ENDPOINT"])
	assert.Equal(t, "api", environmentOf(api[0])["OTEL_SERVICE_NAME"])
	assert.Contains(t, policy(t, resources, "api-task")["Traces"].Action, "xray:PutTraceSegments")

	collaboration := taskContainers(t, resources, "collaboration")
	assert.Len(t, collaboration, 1, "dev does not trace unless asked")
	assert.NotContains(t, policy(t, resources, "collaboration-task"), "Traces")

	prod := build(t, stack(t, "prod", workloads))
	assert.Len(t, taskContainers(t, prod, "notification"), 2, "the prod preset traces every service")
}

func TestStatsdMetricsAddTheAgentWithItsConfigurationInSSM(t *testing.T) {
	resources := build(t, workloadStack(t, "dev"))
	api := taskContainers(t, resources, "api")
	require.Len(t, api, 3)
	agent := api[2]
	assert.Equal(t, compute.AgentContainer, agent.Name)
	assert.Regexp(t, `^public\.ecr\.aws/cloudwatch-agent/cloudwatch-agent:[0-9.]+b[0-9]+$`, agent.Image, "a pinned agent")
	param, ok := plan.Named(resources, "aws:ssm/parameter:Parameter", "api-cloudwatch-agent")
	require.True(t, ok)
	assert.Equal(t, "SecureString", param.String("type"))
	assert.Equal(t, map[string]string{"CW_CONFIG_CONTENT": "arn:aws:ssm:ap-northeast-1:123456789012:parameter/saas-platform/dev/services/api/cloudwatch-agent"}, secretsOf(agent))
	var cfg struct {
		Metrics struct {
			Namespace        string
			MetricsCollected map[string]map[string]any `json:"metrics_collected"`
		}
	}
	assert.Equal(t, "[secret]", param.Input("value"), "a SecureString's value is a Pulumi secret")
	value, err := compute.AgentConfig("saas-platform/dev")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(value), &cfg))
	assert.Equal(t, "saas-platform/dev", cfg.Metrics.Namespace)
	assert.Equal(t, ":8125", cfg.Metrics.MetricsCollected["statsd"]["service_address"])
	assert.Equal(t, "8125", environmentOf(api[0])["STATSD_PORT"])
	metrics := policy(t, resources, "api-task")["Metrics"]
	assert.Equal(t, []string{"cloudwatch:PutMetricData"}, metrics.Action)
	assert.Equal(t, []string{"saas-platform/dev"}, metrics.Condition["StringEquals"]["cloudwatch:namespace"])
}

func TestServiceSettingsReachTheTaskTheTargetGroupAndTheService(t *testing.T) {
	resources := build(t, workloadStack(t, "dev"))
	collaboration := taskContainers(t, resources, "collaboration")[0]
	assert.Equal(t, 120, collaboration.StopTimeout, "WebSocket clients get time to drain")
	td, _ := plan.Named(resources, taskDefType, "collaboration")
	assert.Equal(t, "ARM64", td.String("runtimePlatform.cpuArchitecture"))
	tg, _ := plan.Named(resources, "aws:lb/targetGroup:TargetGroup", "collaboration")
	assert.Equal(t, 120.0, tg.Number("deregistrationDelay"))
	assert.Equal(t, "/health", tg.String("healthCheck.path"))
	api, _ := plan.Named(resources, "aws:lb/targetGroup:TargetGroup", "api")
	assert.Equal(t, 30.0, api.Number("deregistrationDelay"), "the default")

	assert.Equal(t, "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/saas-platform/dev/api:3f2a1bc", taskContainers(t, resources, "api")[0].Image,
		"a service's own imageTag")
	assert.Equal(t, "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/saas-platform/dev/analytics:dev-abc123", taskContainers(t, resources, "analytics")[0].Image,
		"the stack's imageTag otherwise")
	assert.Equal(t, []string{"node", "server.js"}, taskContainers(t, resources, "analytics")[0].Command)

	for _, sizing := range []string{"dev", "prod"} {
		for _, svc := range plan.OfType(build(t, stack(t, sizing, workloads)), serviceType) {
			assert.Equal(t, sizing == "prod", svc.Bool("waitForSteadyState"), "%s %s: prod fails an up that ECS rolls back", sizing, svc.Name)
			assert.True(t, svc.Options.DeleteBeforeReplace, "%s: a fixed service name cannot be replaced create-first", svc.Name)
		}
	}
}

// runHealthCheck runs a container health check as ECS does (CMD-SHELL: the
// string under /bin/sh -c), with only the named tool on the PATH.
func runHealthCheck(t *testing.T, command []string, tool string) error {
	t.Helper()
	require.Equal(t, "CMD-SHELL", command[0])
	bin := t.TempDir()
	found, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not installed", tool)
	}
	require.NoError(t, os.Symlink(found, filepath.Join(bin, tool)))
	cmd := exec.Command("/bin/sh", "-c", command[1])
	cmd.Env = []string{"PATH=" + bin}
	return cmd.Run()
}

// A health check path with a query string reaches the app whole, through
// curl (nginx images) or busybox-style wget (node:22-alpine), and fails
// when the app says unhealthy.
func TestAHealthCheckWithAQueryStringChecksThatQuery(t *testing.T) {
	var got []string
	healthy := true
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
		if !healthy || r.URL.Query().Get("deep") != "1" || r.URL.Query().Get("db") != "1" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer server.Close()
	port, err := strconv.Atoi(server.URL[strings.LastIndex(server.URL, ":")+1:])
	require.NoError(t, err)

	s := stack(t, "dev", fmt.Sprintf(`[{"name":"api","port":%d,"healthCheckPath":"/health?deep=1&db=1","paths":["/api/*"],"priority":5}]`, port))
	command := containers(t, build(t, s))["api"].HealthCheck.Command
	assert.Equal(t, compute.HealthCheckCommand(port, "/health?deep=1&db=1"), command)
	for _, tool := range []string{"curl", "wget"} {
		t.Run(tool, func(t *testing.T) {
			got, healthy = nil, true
			assert.NoError(t, runHealthCheck(t, command, tool))
			assert.Equal(t, []string{"/health?deep=1&db=1"}, got, "the query arrives whole")
			healthy = false
			assert.Error(t, runHealthCheck(t, command, tool), "an unhealthy answer fails the check")
		})
	}
}

// Whatever a path holds, the shell sees the URL as one word and runs
// nothing else: the validator refuses such paths first, this is the second
// line.
func TestAHealthCheckURLIsOneShellWordWhateverItHolds(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	for _, path := range []string{
		"/h;touch " + marker, "/h$(touch " + marker + ")", "/h`touch " + marker + "`", "/h' ; touch " + marker + " ; '",
		"/h|touch " + marker, "/h&&touch " + marker, "/h\ntouch " + marker,
	} {
		command := compute.HealthCheckCommand(1, path)
		// echo stands in for curl and wget: it prints its arguments.
		script := strings.NewReplacer("curl -fsS -o /dev/null", "printf %s", "wget -q -O /dev/null", "printf %s").Replace(command[1])
		out, err := exec.Command("/bin/sh", "-c", script).Output()
		require.NoError(t, err, path)
		assert.Equal(t, "http://localhost:1"+path, string(out), "the URL is one word")
		assert.NoFileExists(t, marker, path)
	}
}
