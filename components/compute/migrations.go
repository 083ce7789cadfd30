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
	runtime "github.com/saas-platform/saas-platform/internal/onboarding"
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
			doc := awspolicy.New(
				awspolicy.Statement{Sid: "OwnLogs", Effect: "Allow",
					Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{v[0].(string) + ":*"}},
				c.watchTasks(v[1].(string), v[2].(string)),
			)
			if args.RegistryTable != "" {
				// The onboarding API's tenants, read to migrate them too.
				doc = doc.With(
					awspolicy.Statement{Sid: "RunTimeTenants", Effect: "Allow", Action: []string{"dynamodb:Scan"},
						Resource: []string{fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", args.Region, c.account, args.RegistryTable)}},
					awspolicy.Statement{Sid: "RegistryEncryption", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{v[3].(string)},
						Condition: awspolicy.Condition{"StringEquals": {"kms:ViaService": {fmt.Sprintf("dynamodb.%s.amazonaws.com", args.Region)}}}},
				)
			}
			return doc
		}, logGroup.Arn, c.Cluster.Name, c.Cluster.Arn, args.KeyArn),
	}, opts)
	if err != nil {
		return nil, err
	}
	environment := pulumi.StringMap{runtime.EnvHandler: pulumi.String(migrations.Handler)}
	if args.RegistryTable != "" {
		environment[runtime.EnvTable] = pulumi.String(args.RegistryTable)
		environment[runtime.EnvPathPrefix] = pulumi.String(args.PathPrefix)
	}
	function, err := lambda.NewFunction(ctx, MigrationsFunction, &lambda.FunctionArgs{
		Description:   pulumi.String("Runs each service's migrate command as a task of the service, once per tenant"),
		Environment:   &lambda.FunctionEnvironmentArgs{Variables: environment},
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
	target := migrationTarget{family: task.Family, execRole: execRole.Arn, migrationRole: migrationRole.Arn}
	c.migrationTargets = append(c.migrationTargets, target)
	grant, err := iam.NewRolePolicy(ctx, s.Name+"-run-migrations", &iam.RolePolicyArgs{
		Role: runner.role.Name, Policy: c.migrationPolicy([]migrationTarget{target}, false),
	}, opts)
	if err != nil {
		return nil, err
	}
	spec := pulumi.All(c.Cluster.Arn, task.Arn, c.args.Network.PrivateSubnetIds, group, migrationRole.Arn).ApplyT(func(v []any) migrations.Spec {
		return migrations.Spec{
			Service:          s.Name,
			Cluster:          v[0].(string),
			TaskDefinition:   v[1].(string),
			Container:        s.Name,
			Command:          s.Migrate.Command,
			Subnets:          v[2].([]string),
			SecurityGroups:   []string{v[3].(string)},
			TaskRole:         v[4].(string),
			CapacityProvider: Fargate,
		}
	})
	c.MigrationSpecs = append(c.MigrationSpecs, spec)
	var tenants pulumi.StringMapInput = pulumi.StringMap{}
	if c.args.Data.TenantSecretArns != nil {
		tenants = c.args.Data.TenantSecretArns
	}
	input := pulumi.All(spec, tenants).ApplyT(func(v []any) (string, error) {
		return migrationRequest(v[0].(migrations.Spec), v[1].(map[string]string))
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

// migrationRequest is the runner's input for a service: its spec and every
// tenant (id and credentials' secret), sorted by id so that the input
// changes only when a tenant does. The runner checks it: its values are
// AWS's, known only at deployment.
func migrationRequest(spec migrations.Spec, tenantSecrets map[string]string) (string, error) {
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

// migrationTarget is what a service's migrations need passed and started.
type migrationTarget struct {
	family                  pulumi.StringOutput
	execRole, migrationRole pulumi.StringOutput
}

// migrationPolicy lets a role start the targets' tasks in the stack's
// cluster with their execution and migration roles (never their task
// roles) and, with watch, watch the cluster's tasks: the runner's grants,
// and the onboarding worker's, which migrates the tenants it makes.
func (c *Compute) migrationPolicy(targets []migrationTarget, watch bool) pulumi.StringOutput {
	inputs := []any{c.Cluster.Arn, c.Cluster.Name}
	for _, t := range targets {
		inputs = append(inputs, t.family, t.execRole, t.migrationRole)
	}
	return awspolicy.Output(func(v []any) awspolicy.Document {
		cluster, clusterName := v[0].(string), v[1].(string)
		var families, roles []string
		for i := 2; i+2 < len(v); i += 3 {
			families = append(families, fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:*", c.args.Region, c.account, v[i].(string)))
			roles = append(roles, v[i+1].(string), v[i+2].(string))
		}
		doc := awspolicy.New(
			awspolicy.Statement{Sid: "RunTheServicesTask", Effect: "Allow", Action: []string{"ecs:RunTask"}, Resource: families,
				Condition: awspolicy.Condition{"ArnEquals": {"ecs:cluster": {cluster}}}},
			awspolicy.Statement{Sid: "PassItsRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: roles,
				Condition: awspolicy.Condition{"StringEquals": {"iam:PassedToService": {"ecs-tasks.amazonaws.com"}}}},
		)
		if watch {
			doc = doc.With(c.watchTasks(clusterName, cluster))
		}
		return doc
	}, inputs...)
}

// watchTasks lets a role read the cluster's tasks: DescribeTasks names
// tasks, whose ARNs are known only once they run.
func (c *Compute) watchTasks(clusterName, cluster string) awspolicy.Statement {
	return awspolicy.Statement{Sid: "WatchTasks", Effect: "Allow", Action: []string{"ecs:DescribeTasks"},
		Resource:  []string{fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/*", c.args.Region, c.account, clusterName)},
		Condition: awspolicy.Condition{"ArnEquals": {"ecs:cluster": {cluster}}}}
}

// MigrationGrant is a policy for the onboarding worker: start and watch
// every migrating service's task; empty when no service migrates.
func (c *Compute) MigrationGrant() pulumi.StringOutput {
	if len(c.migrationTargets) == 0 {
		return pulumi.String("").ToStringOutput()
	}
	return c.migrationPolicy(c.migrationTargets, true)
}
