package data

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// Universal targets of EventBridge Scheduler: AWS calls the RDS API itself,
// with the scheduler role, no function of ours in between.
const (
	StopDBInstanceTarget  = "arn:aws:scheduler:::aws-sdk:rds:stopDBInstance"
	StartDBInstanceTarget = "arn:aws:scheduler:::aws-sdk:rds:startDBInstance"
)

// DatabaseScheduleArgs configures a DatabaseSchedule.
type DatabaseScheduleArgs struct {
	Region string
	// GroupName names the schedule group, <project>-<stack>: every schedule
	// of the stack lives in it.
	GroupName string
	Schedule  config.Schedule
	// Databases are every RDS instance of the stack, as the data component
	// lists them (Data.Databases): shared, pools, silo tenants.
	Databases []DatabaseRef
}

// DatabaseSchedule stops every RDS instance of the stack outside the awake
// windows and starts it before each window, with EventBridge Scheduler.
type DatabaseSchedule struct {
	pulumi.ResourceState

	GroupName pulumi.StringOutput `pulumi:"groupName"`
	RoleArn   pulumi.StringOutput `pulumi:"roleArn"`
}

// NewDatabaseSchedule registers, for each instance and each transition of
// the schedule, a schedule calling rds:startDBInstance or stopDBInstance.
// A stop at the end of every window also catches an instance RDS restarted
// by itself after seven days stopped, or one woken by hand.
func NewDatabaseSchedule(ctx *pulumi.Context, name string, args *DatabaseScheduleArgs, opts ...pulumi.ResourceOption) (*DatabaseSchedule, error) {
	if args == nil || !args.Schedule.On() {
		return nil, fmt.Errorf("database schedule %s: a schedule with awake windows is required", name)
	}
	s := &DatabaseSchedule{}
	if err := ctx.RegisterComponentResource("saas:data:DatabaseSchedule", name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	caller, err := aws.GetCallerIdentity(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("database schedule %s: reading the account id: %w", name, err)
	}
	group, err := scheduler.NewScheduleGroup(ctx, name, &scheduler.ScheduleGroupArgs{
		Name: pulumi.String(args.GroupName),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database schedule %s: %w", name, err)
	}
	var arns []string
	for _, db := range args.Databases {
		arns = append(arns, fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", args.Region, caller.AccountId, db.Identifier))
	}
	role, err := iam.NewRole(ctx, name+"-scheduler", &iam.RoleArgs{
		Description:      pulumi.String("Lets EventBridge Scheduler stop and start the databases of " + args.GroupName),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("scheduler.amazonaws.com", caller.AccountId).String()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database schedule %s: %w", name, err)
	}
	policy, err := iam.NewRolePolicy(ctx, name+"-scheduler", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: pulumi.String(awspolicy.New(awspolicy.Statement{
			Sid:      "StopAndStartTheStacksDatabases",
			Effect:   "Allow",
			Action:   []string{"rds:StopDBInstance", "rds:StartDBInstance"},
			Resource: arns,
		}).String()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("database schedule %s: %w", name, err)
	}

	for _, db := range args.Databases {
		input, _ := json.Marshal(map[string]string{"DbInstanceIdentifier": db.Identifier})
		for _, t := range args.Schedule.Transitions() {
			target, verb := StopDBInstanceTarget, "Stops"
			if t.Awake {
				target, verb = StartDBInstanceTarget, "Starts"
			}
			scheduleName := ScheduleName(db.Identifier, t.Name)
			if _, err := scheduler.NewSchedule(ctx, scheduleName, &scheduler.ScheduleArgs{
				Name:                       pulumi.String(scheduleName),
				GroupName:                  group.Name,
				Description:                pulumi.String(fmt.Sprintf("%s %s (%s)", verb, db.Identifier, t.Name)),
				ScheduleExpression:         pulumi.String(t.Cron),
				ScheduleExpressionTimezone: pulumi.String(args.Schedule.Timezone),
				FlexibleTimeWindow:         &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
				Target: &scheduler.ScheduleTargetArgs{
					Arn:     pulumi.String(target),
					RoleArn: role.Arn,
					Input:   pulumi.String(string(input)),
					// A stop while the instance is still starting (or a
					// start while it is stopping) fails; a few retries
					// within the hour get past the transition.
					RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
						MaximumRetryAttempts:     pulumi.Int(5),
						MaximumEventAgeInSeconds: pulumi.Int(3600),
					},
				},
			}, parent, pulumi.DependsOn([]pulumi.Resource{policy})); err != nil {
				return nil, fmt.Errorf("database schedule %s: %w", name, err)
			}
		}
	}
	s.GroupName = group.Name
	s.RoleArn = role.Arn
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{
		"groupName": s.GroupName,
		"roleArn":   s.RoleArn,
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// maxScheduleName is EventBridge Scheduler's limit on a schedule's name.
const maxScheduleName = 64

// ScheduleName names an instance's schedule for one transition:
// <identifier>-<transition>, shortened with a hash when too long, so that
// names stay unique and stable.
func ScheduleName(identifier, transition string) string {
	full := identifier + "-" + transition
	if len(full) <= maxScheduleName {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	suffix := "-" + hex.EncodeToString(sum[:])[:8] + "-" + transition
	return identifier[:maxScheduleName-len(suffix)] + suffix
}
