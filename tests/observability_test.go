package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/plan"
)

func TestProdAlarmsCoverEveryServiceAndStoreAndAlwaysNotify(t *testing.T) {
	result := planStack(t, "prod")
	cfg := stackConfig(t, "prod")
	_, ok := plan.Named(result.Resources, "aws:sns/topic:Topic", "saas-platform-prod-alerts")
	require.True(t, ok, "the alert topic")

	composites := map[string]bool{}
	for _, c := range plan.OfType(result.Resources, "aws:cloudwatch/compositeAlarm:CompositeAlarm") {
		composites[c.Name] = true
		assert.True(t, c.Bool("actionsEnabled"), c.Name)
	}
	for _, s := range cfg.Services {
		if !s.Scheduled() {
			assert.True(t, composites["saas-platform-prod-"+s.Name+"-unhealthy"], "%s has no composite alarm", s.Name)
		}
	}

	namespaces := map[string]bool{}
	for _, a := range plan.OfType(result.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		namespaces[a.String("namespace")] = true
		assert.NotEmpty(t, a.Strings("alarmActions"), "prod alarm %s notifies nobody", a.Name)
	}
	for _, ns := range []string{"AWS/ECS", "AWS/ApplicationELB", "AWS/RDS", "AWS/ElastiCache"} {
		assert.True(t, namespaces[ns], "no alarm on %s", ns)
	}

	dashboards := plan.OfType(result.Resources, "aws:cloudwatch/dashboard:Dashboard")
	require.Len(t, dashboards, 1)
	body := dashboards[0].String("dashboardBody")
	require.True(t, json.Valid([]byte(body)), "the dashboard body is JSON")
	for _, s := range cfg.Services {
		if !s.Scheduled() {
			assert.True(t, strings.Contains(body, `"ServiceName","`+s.Name+`"`), "the dashboard does not show %s", s.Name)
		}
	}
}

func TestRedisAlarmsFollowTheNodesOfEachPreset(t *testing.T) {
	// Prod: shards x nodes x (cpu, memory, evictions), per node. Dev's
	// serverless cache has no nodes: four alarms on the cache, under its
	// name.
	cases := map[string]struct {
		alarms    int
		dimension string
	}{"dev": {4, "clusterId"}, "prod": {3 * 2 * 3, "CacheClusterId"}}
	for stack, want := range cases {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			n := 0
			for _, a := range plan.OfType(result.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm") {
				if a.String("namespace") == "AWS/ElastiCache" {
					n++
					assert.NotEmpty(t, a.String("dimensions."+want.dimension), a.Name)
				}
			}
			assert.Equal(t, want.alarms, n)
		})
	}
}

func TestTheServerlessCacheAlarmsMeasureItsUsageLimits(t *testing.T) {
	result := planStack(t, "dev")
	thresholds := map[string]float64{}
	metrics := map[string]string{}
	for _, a := range plan.OfType(result.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		if a.String("namespace") == "AWS/ElastiCache" {
			assert.Equal(t, "saas-platform-dev-valkey", a.String("dimensions.clusterId"))
			thresholds[a.String("name")] = a.Number("threshold")
			metrics[a.String("name")] = a.String("metricName")
		}
	}
	// 80 % of 1,000 ECPUs a second over a 300 s period; 85 % of 1 GB.
	assert.Equal(t, "ElastiCacheProcessingUnits", metrics["saas-platform-dev-redis-serverless-ecpu"])
	assert.InDelta(t, 0.80*1000*300, thresholds["saas-platform-dev-redis-serverless-ecpu"], 0.001)
	assert.Equal(t, "BytesUsedForCache", metrics["saas-platform-dev-redis-serverless-storage"])
	assert.InDelta(t, 0.85*1e9, thresholds["saas-platform-dev-redis-serverless-storage"], 0.001)
	assert.Equal(t, "Evictions", metrics["saas-platform-dev-redis-serverless-evictions"])
	assert.Equal(t, "ThrottledCmds", metrics["saas-platform-dev-redis-serverless-throttled"])
	assert.Zero(t, thresholds["saas-platform-dev-redis-serverless-throttled"])
}

func TestWithoutCompositesTheMetricAlarmsNotifyThemselves(t *testing.T) {
	// Dev turns composites off; a stack that notifies and turns them off
	// still pages through each metric alarm.
	dev := planStack(t, "dev")
	assert.Empty(t, plan.OfType(dev.Resources, "aws:cloudwatch/compositeAlarm:CompositeAlarm"))
	notifying := withConfig(t, "../Pulumi.dev.yaml", "dev", "saas-platform:alarms: {notify: true}")
	assert.Empty(t, plan.OfType(notifying.Resources, "aws:cloudwatch/compositeAlarm:CompositeAlarm"))
	for _, a := range plan.OfType(notifying.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		if strings.HasPrefix(a.String("name"), "saas-platform-dev-api-") {
			require.Len(t, a.Strings("alarmActions"), 1, a.Name)
			assert.Contains(t, a.Strings("alarmActions")[0], ":sns:", a.Name)
		}
	}
}
