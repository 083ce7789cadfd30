package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/compute"
	"github.com/saas-platform/saas-platform/internal/cost"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	scheduleType        = "aws:scheduler/schedule:Schedule"
	scheduledActionType = "aws:appautoscaling/scheduledAction:ScheduledAction"
	scalableTargetType  = "aws:appautoscaling/target:Target"
	rdsInstanceType     = "aws:rds/instance:Instance"
	ecsServiceType      = "aws:ecs/service:Service"
)

// planWithSchedule plans a stack file with its schedule section replaced.
func planWithSchedule(t *testing.T, stack, schedule string) *plan.Result {
	t.Helper()
	raw, err := os.ReadFile("../Pulumi." + stack + ".yaml")
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "Pulumi."+stack+".yaml")
	content := strings.Replace(string(raw), "config:\n", "config:\n  saas-platform:schedule: "+schedule+"\n", 1)
	require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
	result, err := planFile(t, file, stack)
	require.NoError(t, err)
	return result
}

func TestDevStopsAndStartsEveryDatabaseWithEventBridgeSchedulerOnWeekdays(t *testing.T) {
	r := planStack(t, "dev")
	instances := plan.OfType(r.Resources, rdsInstanceType)
	require.Len(t, instances, 2, "the shared instance and acme's")

	byInstance := map[string]map[string]plan.Resource{}
	for _, s := range plan.OfType(r.Resources, scheduleType) {
		if !strings.Contains(s.String("target.arn"), ":rds:") {
			continue // the NAT instance's
		}
		var input map[string]string
		require.NoError(t, json.Unmarshal([]byte(s.String("target.input")), &input), s.Name)
		id := input["DbInstanceIdentifier"]
		if byInstance[id] == nil {
			byInstance[id] = map[string]plan.Resource{}
		}
		byInstance[id][s.String("target.arn")] = s
		assert.Equal(t, "Asia/Tokyo", s.String("scheduleExpressionTimezone"), s.Name)
		assert.Equal(t, "OFF", s.String("flexibleTimeWindow.mode"), s.Name)
		assert.Equal(t, "saas-platform-dev", s.String("groupName"), s.Name)
		assert.LessOrEqual(t, len(s.String("name")), 64, s.Name)
	}
	// Every instance the plan holds, whoever made it, and nothing else.
	require.Len(t, byInstance, len(instances))
	var arns []string
	for _, db := range instances {
		id := db.String("identifier")
		schedules := byInstance[id]
		require.Len(t, schedules, 2, id)
		assert.Equal(t, "cron(0 8 ? * MON-FRI *)",
			schedules["arn:aws:scheduler:::aws-sdk:rds:startDBInstance"].String("scheduleExpression"), id)
		assert.Equal(t, "cron(0 20 ? * MON-FRI *)",
			schedules["arn:aws:scheduler:::aws-sdk:rds:stopDBInstance"].String("scheduleExpression"), id)
		arns = append(arns, "arn:aws:rds:ap-northeast-1:"+plan.AccountID+":db:"+id)
	}

	// The scheduler's role may stop and start exactly those instances.
	role, ok := plan.Named(r.Resources, "aws:iam/role:Role", "saas-platform-dev-sleep-scheduler")
	require.True(t, ok)
	var trust struct{ Statement []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(role.String("assumeRolePolicy")), &trust))
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, map[string]any{"Service": []any{"scheduler.amazonaws.com"}}, trust.Statement[0]["Principal"])
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": []any{plan.AccountID}}}, trust.Statement[0]["Condition"])
	policy, ok := plan.Named(r.Resources, "aws:iam/rolePolicy:RolePolicy", "saas-platform-dev-sleep-scheduler")
	require.True(t, ok)
	statements := statementsOf(t, policy)
	require.Len(t, statements, 1)
	assert.Equal(t, "Allow", statements[0].Effect)
	assert.Equal(t, []string{"rds:StopDBInstance", "rds:StartDBInstance"}, statements[0].Action)
	assert.ElementsMatch(t, arns, statements[0].Resource)
}

func TestDevScalesEveryServiceToZeroAtNightWithApplicationAutoScaling(t *testing.T) {
	r := planStack(t, "dev")
	services := plan.OfType(r.Resources, ecsServiceType)
	require.Len(t, services, 5, "every long-running service; the update job keeps its own schedule")
	for _, svc := range services {
		name := svc.String("name")
		assert.Equal(t, []string{"desiredCount"}, svc.Options.IgnoreChanges,
			"%s: the schedule owns the count, an up at night leaves it at zero", name)
		target, ok := plan.Named(r.Resources, scalableTargetType, name)
		require.True(t, ok, name)
		assert.Equal(t, 1.0, target.Number("minCapacity"), name)
		assert.Equal(t, 1.0, target.Number("maxCapacity"), name)
		assert.ElementsMatch(t, []string{"minCapacity", "maxCapacity"}, target.Options.IgnoreChanges,
			"%s: the schedule sets the bounds, so a refresh sees no drift and an up does not wake it", name)
		assert.True(t, strings.HasSuffix(target.String("resourceId"), "/"+name), name)

		wake, ok := plan.Named(r.Resources, scheduledActionType, name+"-wake-1")
		require.True(t, ok, name)
		sleep, ok := plan.Named(r.Resources, scheduledActionType, name+"-sleep-1")
		require.True(t, ok, name)
		for _, a := range []plan.Resource{wake, sleep} {
			assert.Equal(t, target.String("resourceId"), a.String("resourceId"), a.Name)
			assert.Equal(t, "ecs:service:DesiredCount", a.String("scalableDimension"), a.Name)
			assert.Equal(t, "Asia/Tokyo", a.String("timezone"), a.Name)
		}
		assert.Equal(t, "cron(0 8 ? * MON-FRI *)", wake.String("schedule"))
		assert.Equal(t, 1.0, wake.Number("scalableTargetAction.minCapacity"))
		assert.Equal(t, 1.0, wake.Number("scalableTargetAction.maxCapacity"))
		assert.Equal(t, "cron(0 20 ? * MON-FRI *)", sleep.String("schedule"))
		assert.Equal(t, 0.0, sleep.Number("scalableTargetAction.minCapacity"))
		assert.Equal(t, 0.0, sleep.Number("scalableTargetAction.maxCapacity"))
	}
}

func TestProdNeverSleepsUnlessItsStackFileAsks(t *testing.T) {
	r := planStack(t, "prod")
	assert.Empty(t, plan.OfType(r.Resources, scheduleType))
	assert.Empty(t, plan.OfType(r.Resources, scheduledActionType))
	assert.Empty(t, plan.OfType(r.Resources, "aws:scheduler/scheduleGroup:ScheduleGroup"))
	for _, target := range plan.OfType(r.Resources, scalableTargetType) {
		assert.Empty(t, target.Options.IgnoreChanges, "%s: without a schedule the stack file sets the bounds", target.Name)
	}

	asked := planWithSchedule(t, "prod", `{awake: [{days: MON-SAT, from: "06:00", to: "23:00"}], timezone: UTC}`)
	// An autoscaled service wakes to exactly its minCount and maxCount.
	wake, ok := plan.Named(asked.Resources, scheduledActionType, "api-wake-1")
	require.True(t, ok)
	assert.Equal(t, "cron(0 6 ? * MON-SAT *)", wake.String("schedule"))
	assert.Equal(t, "UTC", wake.String("timezone"))
	assert.Equal(t, 2.0, wake.Number("scalableTargetAction.minCapacity"))
	assert.Equal(t, 10.0, wake.Number("scalableTargetAction.maxCapacity"))
	collaboration, ok := plan.Named(asked.Resources, scheduledActionType, "collaboration-wake-1")
	require.True(t, ok)
	assert.Equal(t, 3.0, collaboration.Number("scalableTargetAction.minCapacity"))
	assert.Equal(t, 12.0, collaboration.Number("scalableTargetAction.maxCapacity"))
	// Target tracking still owns the count between the bounds.
	assert.NotEmpty(t, plan.OfType(asked.Resources, "aws:appautoscaling/policy:Policy"))
	// All three of prod's instances sleep: shared, acme and umbrella, and
	// the update job's rule with them. Its NAT gateways cannot.
	assert.Len(t, plan.OfType(asked.Resources, scheduleType), 2*3+2)
	wakeUp, ok := asked.Outputs["wakeUp"].(string)
	require.True(t, ok)
	assert.NotContains(t, wakeUp, "ec2 start-instances", "no NAT instance to start")
}

func TestTheEstimatePricesEachScheduledResourceForItsAwakeHours(t *testing.T) {
	// Weekdays 07:30-22:00 and Saturday 10:00-14:00: 5 x 14.5 + 4 = 76.5
	// of 168 hours, 730 x 76.5/168 = 332.41 h a month.
	r := planWithSchedule(t, "dev",
		`{awake: [{days: MON-FRI, from: "07:30", to: "22:00"}, {days: SAT, from: "10:00", to: "14:00"}]}`)
	est, err := cost.Of(r)
	require.NoError(t, err)
	shared := costLine(t, est, "aws:rds/instance:Instance", "saas-platform-dev", "instance-month")
	// db.t4g.micro at 0.025/h: 332.41 x 0.025 = 8.31.
	assert.InDelta(t, 8.31, shared.Monthly, 0.005)
	assert.InDelta(t, 18.25, shared.AlwaysOn, 0.005)
	assert.Contains(t, shared.Detail, "awake 76.5 h a week")
	api := costLine(t, est, "aws:ecs/service:Service", "api", "Spot task-month")
	// 332.41 x 0.0046215 = 1.536 -> 1.54.
	assert.InDelta(t, 1.54, api.Monthly, 0.005)
}

func TestWakingDevEarlyIsOneCommandTheStackExports(t *testing.T) {
	r := planStack(t, "dev")
	command, ok := r.Outputs["wakeUp"].(string)
	require.True(t, ok, "dev exports wakeUp")
	lines := strings.Split(strings.TrimSpace(command), "\n")
	_, nat := natInstance(t)
	want := []string{"aws ec2 start-instances --region ap-northeast-1 --instance-ids " + nat.ID +
		" --query StartingInstances[0].CurrentState.Name --output text"}
	for _, db := range plan.OfType(r.Resources, rdsInstanceType) {
		want = append(want, "aws rds start-db-instance --region ap-northeast-1 --db-instance-identifier "+db.String("identifier")+
			" --query DBInstance.DBInstanceStatus --output text")
		want = append(want, "aws rds wait db-instance-available --region ap-northeast-1 --db-instance-identifier "+db.String("identifier"))
	}
	// What the wake-up actions set at their hour, for every service.
	for _, wake := range plan.OfType(r.Resources, scheduledActionType) {
		if !strings.HasSuffix(wake.Name, "-wake-1") {
			continue
		}
		want = append(want, "aws application-autoscaling register-scalable-target --region ap-northeast-1 --service-namespace ecs "+
			"--scalable-dimension ecs:service:DesiredCount --resource-id "+wake.String("resourceId")+
			" --min-capacity 1 --max-capacity 1")
	}
	// The scheduled task's rule, which its schedule disabled.
	for _, rule := range plan.OfType(r.Resources, "aws:cloudwatch/eventRule:EventRule") {
		want = append(want, "aws events enable-rule --region ap-northeast-1 --name "+rule.Name+"-"+rule.ID[len(rule.ID)-7:])
	}
	assert.ElementsMatch(t, want, lines)
	// The NAT instance and the databases start first, so that services
	// wake to their images and jobs to a database that answers.
	assert.True(t, strings.HasPrefix(lines[0], "aws ec2 start-instances"))
	assert.True(t, strings.HasPrefix(lines[1], "aws rds start-db-instance"))
	assert.True(t, strings.HasPrefix(lines[len(lines)-1], "aws events enable-rule"))

	assert.NotContains(t, planStack(t, "prod").Outputs, "wakeUp", "prod never sleeps")
}

func TestTheNATInstanceSleepsWithTheStackAndOnlyTheSchedulerMayStopIt(t *testing.T) {
	r, nat := natInstance(t)
	arns := map[string]string{}
	for _, s := range plan.OfType(r.Resources, scheduleType) {
		if !strings.Contains(s.String("target.arn"), ":ec2:") {
			continue
		}
		assert.Equal(t, `{"InstanceIds":["`+nat.ID+`"]}`, s.String("target.input"), s.Name)
		assert.Equal(t, "Asia/Tokyo", s.String("scheduleExpressionTimezone"), s.Name)
		assert.Equal(t, "saas-platform-dev", s.String("groupName"), s.Name)
		arns[s.String("target.arn")] = s.String("scheduleExpression")
	}
	assert.Equal(t, map[string]string{
		"arn:aws:scheduler:::aws-sdk:ec2:startInstances": "cron(0 8 ? * MON-FRI *)",
		"arn:aws:scheduler:::aws-sdk:ec2:stopInstances":  "cron(0 20 ? * MON-FRI *)",
	}, arns)
	policy, ok := plan.Named(r.Resources, "aws:iam/rolePolicy:RolePolicy", "saas-platform-dev-nat-scheduler")
	require.True(t, ok)
	statements := statementsOf(t, policy)
	require.Len(t, statements, 1)
	assert.Equal(t, []string{"ec2:StopInstances", "ec2:StartInstances"}, statements[0].Action)
	assert.Equal(t, []string{"arn:aws:ec2:ap-northeast-1:" + plan.AccountID + ":instance/" + nat.ID}, statements[0].Resource)
	// Its root volume uses EBS's own key, so starting it needs no KMS grant.
	assert.Empty(t, nat.String("rootBlockDevice.kmsKeyId"))
}

func TestAScheduledTaskSleepsWithTheStackAndItsRoleTouchesOnlyItsRule(t *testing.T) {
	r := planStack(t, "dev")
	rules := plan.OfType(r.Resources, "aws:cloudwatch/eventRule:EventRule")
	require.Len(t, rules, 1, "dev's update job")
	rule := rules[0]
	assert.Equal(t, "ENABLED", rule.String("state"), "created enabled")
	assert.ElementsMatch(t, []string{"state", "isEnabled"}, rule.Options.IgnoreChanges, "the schedule owns its state: no drift")

	// The rule's name is AWS's (auto-named): the mock's, its resource name
	// and a suffix of its id.
	name := rule.Name + "-" + rule.ID[len(rule.ID)-7:]
	targets := map[string]string{}
	for _, s := range plan.OfType(r.Resources, scheduleType) {
		switch s.String("target.arn") {
		case compute.DisableRuleTarget, compute.EnableRuleTarget:
			assert.JSONEq(t, `{"Name":"`+name+`"}`, s.String("target.input"))
			assert.Contains(t, s.Dependencies, rule.URN)
			assert.Equal(t, "saas-platform-dev", s.String("groupName"))
			assert.Equal(t, "Asia/Tokyo", s.String("scheduleExpressionTimezone"))
			targets[s.String("scheduleExpression")] = s.String("target.arn")
		}
	}
	assert.Equal(t, map[string]string{
		"cron(0 20 ? * MON-FRI *)": compute.DisableRuleTarget,
		"cron(0 8 ? * MON-FRI *)":  compute.EnableRuleTarget,
	}, targets, "disabled when the stack sleeps, enabled when it wakes")

	policy, ok := plan.Named(r.Resources, "aws:iam/rolePolicy:RolePolicy", "update-sleep")
	require.True(t, ok)
	statements := statementsOf(t, policy)
	require.Len(t, statements, 1)
	assert.ElementsMatch(t, []string{"events:DisableRule", "events:EnableRule"}, statements[0].Action)
	require.Len(t, statements[0].Resource, 1, "that rule only")
	assert.True(t, strings.HasSuffix(statements[0].Resource[0], "/"+name), statements[0].Resource[0])

	// Prod, which does not sleep, keeps its job's rule as it is.
	prod := plan.OfType(planStack(t, "prod").Resources, "aws:cloudwatch/eventRule:EventRule")
	require.Len(t, prod, 1)
	assert.Empty(t, prod[0].Options.IgnoreChanges)
	for _, s := range plan.OfType(planStack(t, "prod").Resources, scheduleType) {
		t.Errorf("prod sleeps nothing, yet plans %s", s.Name)
	}
}

func TestEveryScheduleNameFitsEventBridgeSchedulerAndStaysUnique(t *testing.T) {
	// The longest tenant id dev takes makes an instance identifier of 63
	// characters: with "-sleep-1" its schedules' names need shortening.
	long := strings.Repeat("a", 63-len("saas-platform-dev-tenant-"))
	file := writeStackFile(t, strings.Replace(readFile(t, "../Pulumi.dev.yaml"),
		"    - {id: acme, plan: premium}\n", "    - {id: acme, plan: premium}\n    - {id: "+long+", plan: premium}\n", 1))
	r, err := planFile(t, file, "dev")
	require.NoError(t, err)
	names := map[string]bool{}
	shortened := 0
	for _, s := range plan.OfType(r.Resources, scheduleType) {
		name := s.String("name")
		assert.LessOrEqual(t, len(name), 64, name)
		assert.False(t, names[name], "%s is unique", name)
		names[name] = true
		if strings.Contains(s.String("target.input"), long) && !strings.HasPrefix(name, "saas-platform-dev-tenant-"+long) {
			shortened++
		}
	}
	assert.Equal(t, 2, shortened, "the long tenant's instance wakes and sleeps once a weekday: both names shortened")
}
