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
	cases := map[string]int{"dev": 1 * 2 * 3, "prod": 3 * 2 * 3} // shards x nodes x (cpu, memory, evictions)
	for stack, want := range cases {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			n := 0
			for _, a := range plan.OfType(result.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm") {
				if a.String("namespace") == "AWS/ElastiCache" {
					n++
				}
			}
			assert.Equal(t, want, n)
		})
	}
}
