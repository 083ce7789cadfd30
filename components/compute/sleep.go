package compute

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
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
