package compute

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/migrations"
)

// MigrationsFunction is the short name of the function that runs tenant
// migrations: its log group is <prefix>/lambda/<name>.
const MigrationsFunction = "migrations"

// migrationTimeout is the runner's timeout, Lambda's longest: the
// invocation waits for every tenant's task.
const migrationTimeout = 900

// migrationRunner is the stack's one function that runs tenant migrations,
// and its role, to which each service with a migrate command adds what its
// own migrations need.
type migrationRunner struct {
	function *lambda.Function
	role     *iam.Role
	ready    pulumi.Resource // the role's own policy
}

// newMigrationRunner makes the runner: the provisioner's binary with the
// migrations handler, outside the VPC because it only calls the ECS API (the
// tasks it starts do the database work in the private subnets), so it
// needs neither a network interface nor the NAT, which a sleeping stack
// stops at night.
func (c *Compute) newMigrationRunner(ctx *pulumi.Context) (*migrationRunner, error) {
	args := c.args
	if args.MigrationCode == nil {
		return nil, fmt.Errorf("services with a migrate command need the runner's code (ComputeArgs.MigrationCode)")
	}
	code, err := args.MigrationCode()
	if err != nil {
		return nil, err
	}
	opts := pulumi.Parent(c)
	logGroup, err := cloudwatch.NewLogGroup(ctx, MigrationsFunction, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.PathPrefix + "/lambda/" + MigrationsFunction),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.KeyArn,
	}, opts)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, MigrationsFunction, &iam.RoleArgs{
		Description:      pulumi.String("Runs tenant migrations as tasks of their services in " + args.Environment),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("lambda.amazonaws.com", c.account).String()),
	}, opts)
	if err != nil {
		return nil, err
	}
	policy, err := iam.NewRolePolicy(ctx, MigrationsFunction, &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			return awspolicy.New(
				awspolicy.Statement{Sid: "OwnLogs", Effect: "Allow",
					Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{v[0].(string) + ":*"}},
				// DescribeTasks names tasks, whose ARNs are known only once
				// they run: any task of this cluster.
				awspolicy.Statement{Sid: "WatchTasks", Effect: "Allow", Action: []string{"ecs:DescribeTasks"},
					Resource:  []string{fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/*", args.Region, c.account, v[1].(string))},
					Condition: awspolicy.Condition{"ArnEquals": {"ecs:cluster": {v[2].(string)}}}},
			)
		}, logGroup.Arn, c.Cluster.Name, c.Cluster.Arn),
	}, opts)
	if err != nil {
		return nil, err
	}
	function, err := lambda.NewFunction(ctx, MigrationsFunction, &lambda.FunctionArgs{
		Description:   pulumi.String("Runs each service's migrate command as a task of the service, once per tenant"),
		Environment:   &lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{"TENANTDB_HANDLER": pulumi.String(migrations.Handler)}},
		Runtime:       pulumi.String("provided.al2023"),
		Handler:       pulumi.String("bootstrap"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Code:          code,
		Role:          role.Arn,
		MemorySize:    pulumi.Int(128),
		Timeout:       pulumi.Int(migrationTimeout),
		KmsKeyArn:     args.KeyArn,
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logGroup.Name},
	}, opts, pulumi.DependsOn([]pulumi.Resource{policy}))
	if err != nil {
		return nil, err
	}
	return &migrationRunner{function: function, role: role, ready: policy}, nil
}

// migrations makes what runs s's migrate command for every tenant before
// s rolls out: the runner's permission to start exactly s's task with its
// roles, and the invocation that runs it, whose input (the plan's record
// of which tenants migrate) lists every tenant. The service and its
// schedule depend on the invocation, so a failed migration stops the
// rollout. Nil when s has no migrate command.
func (c *Compute) migrations(ctx *pulumi.Context, s config.Service, task *ecs.TaskDefinition, execRole, migrationRole *iam.Role) (pulumi.Resource, error) {
	if s.Migrate == nil {
		return nil, nil
	}
	if c.migrationRunner == nil {
		runner, err := c.newMigrationRunner(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrations runner: %w", err)
		}
		c.migrationRunner = runner
	}
	runner := c.migrationRunner
	opts := pulumi.Parent(c)
	group, err := c.securityGroup(s)
	if err != nil {
		return nil, err
	}
	grant, err := iam.NewRolePolicy(ctx, s.Name+"-run-migrations", &iam.RolePolicyArgs{
		Role: runner.role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			family := fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:*", c.args.Region, c.account, v[0].(string))
			return awspolicy.New(
				awspolicy.Statement{Sid: "RunTheServicesTask", Effect: "Allow", Action: []string{"ecs:RunTask"}, Resource: []string{family},
					Condition: awspolicy.Condition{"ArnEquals": {"ecs:cluster": {v[1].(string)}}}},
				awspolicy.Statement{Sid: "PassItsRoles", Effect: "Allow", Action: []string{"iam:PassRole"},
					Resource:  []string{v[2].(string), v[3].(string)},
					Condition: awspolicy.Condition{"StringEquals": {"iam:PassedToService": {"ecs-tasks.amazonaws.com"}}}},
			)
		}, task.Family, c.Cluster.Arn, execRole.Arn, migrationRole.Arn),
	}, opts)
	if err != nil {
		return nil, err
	}
	var tenants pulumi.StringMapInput = pulumi.StringMap{}
	if c.args.Data.TenantSecretArns != nil {
		tenants = c.args.Data.TenantSecretArns
	}
	input := pulumi.All(c.Cluster.Arn, task.Arn, c.args.Network.PrivateSubnetIds, group, migrationRole.Arn, tenants).
		ApplyT(func(v []any) (string, error) {
			return MigrationRequest(migrations.Spec{
				Service:          s.Name,
				Cluster:          v[0].(string),
				TaskDefinition:   v[1].(string),
				Container:        s.Name,
				Command:          s.Migrate.Command,
				Subnets:          v[2].([]string),
				SecurityGroups:   []string{v[3].(string)},
				TaskRole:         v[4].(string),
				CapacityProvider: Fargate,
			}, v[5].(map[string]string))
		}).(pulumi.StringOutput)
	invocation, err := lambda.NewInvocation(ctx, s.Name+"-migrations", &lambda.InvocationArgs{
		FunctionName:   runner.function.Name,
		Input:          input,
		LifecycleScope: pulumi.String("CRUD"),
		TerraformKey:   pulumi.String("tf"),
	}, opts, pulumi.DependsOn(append([]pulumi.Resource{runner.function, runner.ready, grant, c.capacityProviders}, c.args.Data.TenantsProvisioned...)))
	if err != nil {
		return nil, err
	}
	return invocation, nil
}

// MigrationRequest is the runner's input for a service: its spec and every
// tenant (id and credentials' secret), sorted by id so that the input
// changes only when a tenant does. The runner checks it: its values are
// AWS's, known only at deployment.
func MigrationRequest(spec migrations.Spec, tenantSecrets map[string]string) (string, error) {
	req := migrations.Request{Spec: spec, Tenants: []migrations.Tenant{}}
	ids := make([]string, 0, len(tenantSecrets))
	for id := range tenantSecrets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		req.Tenants = append(req.Tenants, migrations.Tenant{ID: id, SecretID: tenantSecrets[id]})
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(body)), nil
}
