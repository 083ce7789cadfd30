package observability_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/observability"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	alarmType     = "aws:cloudwatch/metricAlarm:MetricAlarm"
	compositeType = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
)

func alarms(t *testing.T, sizing string) config.Alarms {
	values := map[string]string{"aws:region": "ap-northeast-1", "saas-platform:sizing": sizing,
		"saas-platform:loadBalancer": `{"requireHttps":false}`}
	s, err := config.Parse("saas-platform", sizing, values)
	require.NoError(t, err)
	return s.Alarms
}

func build(t *testing.T, sizing string) []plan.Resource {
	t.Helper()
	mocks := plan.NewMocks("saas-platform", sizing, "ap-northeast-1")
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := observability.NewObservability(ctx, "env", &observability.ObservabilityArgs{
			Project: "saas-platform", Environment: sizing, Region: "ap-northeast-1",
			KeyArn:      pulumi.String("arn:aws:kms:ap-northeast-1:123456789012:key/k"),
			Emails:      []string{"ops@example.com", "oncall@example.com"},
			Alarms:      alarms(t, sizing),
			ClusterName: pulumi.String("cluster-1"), LoadBalancerArnSuffix: pulumi.String("app/alb/1"),
			Services: []observability.Service{
				{Name: "api", Routed: true, TargetGroupArnSuffix: pulumi.String("targetgroup/api/1")},
				{Name: "notification"},
			},
			Databases: []observability.Database{
				{Identifier: "saas-platform-" + sizing, AllocatedStorage: 100},
				{Identifier: "saas-platform-" + sizing + "-acme", AllocatedStorage: 500, Tags: map[string]string{"TenantId": "acme", "Plan": "enterprise"}},
			},
			CacheNodes: []string{"saas-platform-" + sizing + "-0001-001", "saas-platform-" + sizing + "-0001-002"},
		})
		return err
	}, pulumi.WithMocks("saas-platform", sizing, mocks))
	require.NoError(t, err)
	return mocks.Resources()
}

func names(resources []plan.Resource, typ string) []string {
	var out []string
	for _, r := range plan.OfType(resources, typ) {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

func TestEveryServiceAndStoreHasItsAlarms(t *testing.T) {
	resources := build(t, "prod")
	assert.Equal(t, []string{
		"saas-platform-prod-api-5xx", "saas-platform-prod-api-cpu", "saas-platform-prod-api-latency",
		"saas-platform-prod-api-memory", "saas-platform-prod-api-tasks",
		"saas-platform-prod-db-acme-connections", "saas-platform-prod-db-acme-cpu", "saas-platform-prod-db-acme-free-storage",
		"saas-platform-prod-db-shared-connections", "saas-platform-prod-db-shared-cpu", "saas-platform-prod-db-shared-free-storage",
		"saas-platform-prod-notification-cpu", "saas-platform-prod-notification-memory", "saas-platform-prod-notification-tasks",
		"saas-platform-prod-redis-0001-001-cpu", "saas-platform-prod-redis-0001-001-evictions", "saas-platform-prod-redis-0001-001-memory",
		"saas-platform-prod-redis-0001-002-cpu", "saas-platform-prod-redis-0001-002-evictions", "saas-platform-prod-redis-0001-002-memory",
	}, names(resources, alarmType))

	rules := map[string]string{}
	for _, c := range plan.OfType(resources, compositeType) {
		rules[c.Name] = c.String("alarmRule")
		for _, member := range regexp.MustCompile(`ALARM\("([^"]+)"\)`).FindAllStringSubmatch(c.String("alarmRule"), -1) {
			assert.Contains(t, c.Dependencies, "urn:pulumi:prod::saas-platform::saas:observability:Observability$aws:cloudwatch/metricAlarm:MetricAlarm::"+member[1],
				"%s must wait for %s, which CloudWatch requires to exist", c.Name, member[1])
		}
	}
	assert.Equal(t, map[string]string{
		"saas-platform-prod-api-unhealthy": `ALARM("saas-platform-prod-api-cpu") OR ALARM("saas-platform-prod-api-memory") OR ` +
			`ALARM("saas-platform-prod-api-5xx") OR ALARM("saas-platform-prod-api-latency")`,
		"saas-platform-prod-notification-unhealthy": `ALARM("saas-platform-prod-notification-cpu") OR ALARM("saas-platform-prod-notification-memory")`,
	}, rules)
}

func TestThresholdsComeFromThePresetsTable(t *testing.T) {
	resources := build(t, "prod")
	byName := map[string]plan.Resource{}
	for _, a := range plan.OfType(resources, alarmType) {
		byName[a.Name] = a
		if a.Name != "saas-platform-prod-api-tasks" && a.Name != "saas-platform-prod-notification-tasks" {
			assert.Equal(t, 300.0, a.Number("period"), a.Name)
		}
		assert.Equal(t, 2.0, a.Number("evaluationPeriods"), a.Name)
	}
	cases := []struct {
		alarm, namespace, metric, comparison, missing string
		threshold                                     float64
	}{
		{"api-cpu", "AWS/ECS", "CPUUtilization", "GreaterThanThreshold", "missing", 80},
		{"api-memory", "AWS/ECS", "MemoryUtilization", "GreaterThanThreshold", "missing", 80},
		{"api-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "GreaterThanThreshold", "notBreaching", 10},
		{"api-latency", "AWS/ApplicationELB", "TargetResponseTime", "GreaterThanThreshold", "notBreaching", 1},
		{"db-acme-free-storage", "AWS/RDS", "FreeStorageSpace", "LessThanThreshold", "missing", 500 * 1024 * 1024 * 1024 * 0.1},
		{"db-shared-connections", "AWS/RDS", "DatabaseConnections", "GreaterThanThreshold", "missing", 400},
		{"redis-0001-001-cpu", "AWS/ElastiCache", "EngineCPUUtilization", "GreaterThanThreshold", "missing", 80},
		{"redis-0001-001-memory", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "GreaterThanThreshold", "missing", 85},
	}
	for _, tc := range cases {
		a, ok := byName["saas-platform-prod-"+tc.alarm]
		require.True(t, ok, tc.alarm)
		assert.Equal(t, tc.namespace, a.String("namespace"), tc.alarm)
		assert.Equal(t, tc.metric, a.String("metricName"), tc.alarm)
		assert.Equal(t, tc.comparison, a.String("comparisonOperator"), tc.alarm)
		assert.Equal(t, tc.missing, a.String("treatMissingData"), tc.alarm)
		assert.Equal(t, tc.threshold, a.Number("threshold"), tc.alarm)
	}
	assert.Equal(t, "p95", byName["saas-platform-prod-api-latency"].String("extendedStatistic"))
	assert.Equal(t, "targetgroup/api/1", byName["saas-platform-prod-api-5xx"].String("dimensions.TargetGroup"))
	assert.Equal(t, map[string]any{"TenantId": "acme", "Plan": "enterprise"}, byName["saas-platform-prod-db-acme-cpu"].Input("tags"),
		"a silo tenant's alarms are tagged like its instance")
}

func TestProdAlarmsNotifyTheTopicAndDevAlarmsNobody(t *testing.T) {
	for _, sizing := range []string{"dev", "prod"} {
		t.Run(sizing, func(t *testing.T) {
			resources := build(t, sizing)
			topics := plan.OfType(resources, "aws:sns/topic:Topic")
			require.Len(t, topics, 1)
			topic := topics[0]
			assert.Equal(t, "arn:aws:kms:ap-northeast-1:123456789012:key/k", topic.String("kmsMasterKeyId"))
			assert.Len(t, plan.OfType(resources, "aws:sns/topicSubscription:TopicSubscription"), 2)

			alarms := plan.OfType(resources, alarmType)
			require.NotEmpty(t, alarms)
			for _, a := range alarms {
				if sizing == "prod" {
					assert.Len(t, a.Strings("alarmActions"), 1, a.Name)
					assert.Len(t, a.Strings("okActions"), 1, a.Name)
				} else {
					assert.Empty(t, a.Strings("alarmActions"), a.Name)
				}
			}
			for _, c := range plan.OfType(resources, compositeType) {
				assert.Equal(t, sizing == "prod", c.Bool("actionsEnabled"), c.Name)
				assert.Len(t, c.Strings("okActions"), 1, "%s also reports recovery", c.Name)
			}
		})
	}
}

func TestTheDashboardIsJSONAndShowsEveryServiceAndStore(t *testing.T) {
	resources := build(t, "prod")
	dashboards := plan.OfType(resources, "aws:cloudwatch/dashboard:Dashboard")
	require.Len(t, dashboards, 1)
	var body struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(dashboards[0].String("dashboardBody")), &body))
	var titles []string
	for _, w := range body.Widgets {
		titles = append(titles, w.Properties.Title)
		assert.NotEmpty(t, w.Properties.Metrics, w.Properties.Title)
	}
	for _, want := range []string{"^api: CPU", "^api: requests", "^notification: CPU",
		"^PostgreSQL saas-platform-prod$", "^PostgreSQL saas-platform-prod-acme$", "^Redis saas-platform-prod-0001-002$"} {
		found := false
		for _, title := range titles {
			found = found || regexp.MustCompile(want).MatchString(title)
		}
		assert.True(t, found, "no widget matches %s in %v", want, titles)
	}
}
