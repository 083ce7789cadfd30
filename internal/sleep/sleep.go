// Package sleep registers what puts a resource to sleep with its stack and
// wakes it up: one EventBridge Scheduler schedule per transition of the
// stack's schedule, calling an AWS API itself (a universal target) with a
// role the caller made for exactly that resource. The NAT instance, the
// databases and the scheduled tasks' rules all sleep this way.
package sleep

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awsname"
)

// Schedules are one resource's sleeps and wake-ups.
type Schedules struct {
	// Name names the schedules: <Name>-<transition>, shortened to what
	// EventBridge Scheduler takes (ScheduleName).
	Name     string
	Schedule config.Schedule
	// Group is the stack's schedule group.
	Group pulumi.StringInput
	// Sleep and Wake are the universal targets called at each sleep and
	// each wake-up, with Role and the API call's Input.
	Sleep, Wake string
	Role        pulumi.StringInput
	Input       pulumi.StringInput
	// Describe says what a transition does to the resource.
	Describe func(t config.Transition) string
}

// Register makes a schedule per transition.
func (s Schedules) Register(ctx *pulumi.Context, opts ...pulumi.ResourceOption) error {
	for _, t := range s.Schedule.Transitions() {
		target := s.Sleep
		if t.Awake {
			target = s.Wake
		}
		name := ScheduleName(s.Name, t.Name)
		if _, err := scheduler.NewSchedule(ctx, name, &scheduler.ScheduleArgs{
			Name:                       pulumi.String(name),
			GroupName:                  s.Group,
			Description:                pulumi.String(s.Describe(t)),
			ScheduleExpression:         pulumi.String(t.Cron),
			ScheduleExpressionTimezone: pulumi.String(s.Schedule.Timezone),
			FlexibleTimeWindow:         &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
			Target: &scheduler.ScheduleTargetArgs{
				Arn:     pulumi.String(target),
				RoleArn: s.Role,
				Input:   s.Input,
				// A stop while the resource is still starting (or a start
				// while it is stopping) fails; a few retries within the
				// hour get past the transition.
				RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
					MaximumRetryAttempts:     pulumi.Int(5),
					MaximumEventAgeInSeconds: pulumi.Int(3600),
				},
			},
		}, opts...); err != nil {
			return fmt.Errorf("schedule %s: %w", name, err)
		}
	}
	return nil
}

// maxScheduleName is EventBridge Scheduler's limit on a schedule's name.
const maxScheduleName = 64

// ScheduleName names a resource's schedule for one transition:
// <name>-<transition>, shortened when too long.
func ScheduleName(name, transition string) string {
	return awsname.Suffixed(name, transition, maxScheduleName)
}
