package data

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/sleep"
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
	// GroupName is the stack's schedule group: every schedule of the
	// stack lives in it.
	GroupName pulumi.StringInput
	Schedule  config.Schedule
	// Databases are every RDS instance of the stack, as the data component
	// lists them (Data.Databases): shared, pools, silo tenants.
	Databases []DatabaseRef
}

// DatabaseSchedule stops every RDS instance of the stack outside the awake
// windows and starts it before each window, with EventBridge Scheduler.
type DatabaseSchedule struct {
	pulumi.ResourceState

	RoleArn pulumi.StringOutput `pulumi:"roleArn"`
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
	var arns []string
	for _, db := range args.Databases {
		arns = append(arns, fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", args.Region, caller.AccountId, db.Identifier))
	}
	role, err := iam.NewRole(ctx, name+"-scheduler", &iam.RoleArgs{
		Description:      pulumi.Sprintf("Lets EventBridge Scheduler stop and start the databases of %s", args.GroupName),
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
		if err := (sleep.Schedules{
			Name: db.Identifier, Schedule: args.Schedule, Group: args.GroupName,
			Sleep: StopDBInstanceTarget, Wake: StartDBInstanceTarget, Role: role.Arn, Input: pulumi.String(string(input)),
			Describe: func(t config.Transition) string {
				verb := "Stops"
				if t.Awake {
					verb = "Starts"
				}
				return fmt.Sprintf("%s %s (%s)", verb, db.Identifier, t.Name)
			},
		}).Register(ctx, parent, pulumi.DependsOn([]pulumi.Resource{policy})); err != nil {
			return nil, fmt.Errorf("database schedule %s: %w", name, err)
		}
	}
	s.RoleArn = role.Arn
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{
		"roleArn": s.RoleArn,
	}); err != nil {
		return nil, err
	}
	return s, nil
}
