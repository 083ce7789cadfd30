package compute

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/sleep"
)

// WakeTarget is what waking one service up sets: its scalable target's
// bounds while awake.
type WakeTarget struct {
	ResourceId pulumi.StringOutput // service/<cluster>/<service>
	Min, Max   int
}

// sleep puts a service on the stack's schedule with Application Auto
// Scaling's own scheduled actions: at each sleep both bounds go to zero,
// at each wake-up they return to exactly the awake range (minCount and
// maxCount for an autoscaled service, its desired count otherwise), and
// target tracking carries on from there.
func (c *Compute) sleep(ctx *pulumi.Context, s config.Service, target *appautoscaling.Target) error {
	sched := c.args.Schedule
	if !sched.On() {
		return nil
	}
	min, max := awakeCapacity(s)
	c.Wake = append(c.Wake, WakeTarget{ResourceId: target.ResourceId, Min: min, Max: max})
	for _, t := range sched.Transitions() {
		lo, hi := 0, 0
		if t.Awake {
			lo, hi = min, max
		}
		if _, err := appautoscaling.NewScheduledAction(ctx, s.Name+"-"+t.Name, &appautoscaling.ScheduledActionArgs{
			Name:              pulumi.String(s.Name + "-" + t.Name),
			ServiceNamespace:  target.ServiceNamespace,
			ScalableDimension: target.ScalableDimension,
			ResourceId:        target.ResourceId,
			Schedule:          pulumi.String(t.Cron),
			Timezone:          pulumi.String(sched.Timezone),
			ScalableTargetAction: &appautoscaling.ScheduledActionScalableTargetActionArgs{
				MinCapacity: pulumi.Int(lo),
				MaxCapacity: pulumi.Int(hi),
			},
		}, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{target})); err != nil {
			return err
		}
	}
	return nil
}

// Universal targets of EventBridge Scheduler that disable and enable an
// EventBridge rule: EventBridge's own API, called by AWS with the role of
// taskSleep, no function of ours in between.
const (
	DisableRuleTarget = "arn:aws:scheduler:::aws-sdk:eventbridge:disableRule"
	EnableRuleTarget  = "arn:aws:scheduler:::aws-sdk:eventbridge:enableRule"
)

// taskSleep puts a scheduled task's rule on the stack's schedule: disabled
// at each sleep, enabled at each wake-up. Asleep, the database the task
// would use is stopped, so its runs would only fail (and bill Fargate).
// The role may disable and enable that rule and nothing else.
func (c *Compute) taskSleep(ctx *pulumi.Context, s config.Service, rule *cloudwatch.EventRule) error {
	sched := c.args.Schedule
	if !sched.On() {
		return nil
	}
	opts := pulumi.Parent(c)
	role, err := iam.NewRole(ctx, s.Name+"-sleep", &iam.RoleArgs{
		Description:      pulumi.String("Lets EventBridge Scheduler disable and enable the rule that runs " + s.Name),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("scheduler.amazonaws.com", c.account).String()),
	}, opts)
	if err != nil {
		return err
	}
	policy, err := iam.NewRolePolicy(ctx, s.Name+"-sleep", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			return awspolicy.New(awspolicy.Statement{
				Sid: "DisableAndEnableThisRule", Effect: "Allow",
				Action:   []string{"events:DisableRule", "events:EnableRule"},
				Resource: []string{v[0].(string)},
			})
		}, rule.Arn),
	}, opts)
	if err != nil {
		return err
	}
	c.SleepingRules = append(c.SleepingRules, rule.Name)
	input := rule.Name.ApplyT(func(name string) (string, error) {
		b, err := json.Marshal(map[string]string{"Name": name})
		return string(b), err
	}).(pulumi.StringOutput)
	if err := (sleep.Schedules{
		Name: s.Name + "-task", Schedule: sched, Group: c.args.ScheduleGroup,
		Sleep: DisableRuleTarget, Wake: EnableRuleTarget, Role: role.Arn, Input: input,
		Describe: func(t config.Transition) string { return fmt.Sprintf("The scheduled task %s: %s", s.Name, t.Name) },
	}).Register(ctx, opts, pulumi.DependsOn([]pulumi.Resource{policy, rule})); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	return nil
}
