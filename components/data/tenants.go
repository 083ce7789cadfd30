package data

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/tenantdb"
	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// TenantDatabaseArgs configures a TenantDatabase.
type TenantDatabaseArgs struct {
	Tenant config.Tenant
	// Identifier names the silo instance: <project>-<stack>-<id>.
	Identifier string
	// SecretName and ParameterPath are where services find the tenant:
	// <project>/<stack>/tenants/<id>/database and /<project>/<stack>/tenants/<id>.
	SecretName    string
	ParameterPath string
	KeyArn        pulumi.StringInput
	Protect       bool

	// Silo tenants: the shared instance settings and the plan's size.
	Postgres      postgresShared
	EngineVersion string

	// Pool tenants: the shared instance and the provisioning function.
	SharedHost        pulumi.StringInput
	SharedSecretArn   pulumi.StringInput
	ProvisionerName   pulumi.StringInput
	ProvisionerDepend []pulumi.Resource
	// LegacyFacts: the previous deployment made this pool tenant's secret
	// and parameters as stack resources (see legacyFacts).
	LegacyFacts bool
}

// TenantDatabase is where one tenant's data lives, by its plan: a database
// and login role in the shared PostgreSQL (pool) or a dedicated instance
// (silo); either way its credentials are in Secrets Manager and its
// connection facts are SSM parameters.
type TenantDatabase struct {
	pulumi.ResourceState

	Host      pulumi.StringOutput `pulumi:"host"`
	Port      pulumi.IntOutput    `pulumi:"port"`
	Database  pulumi.StringOutput `pulumi:"database"`
	SecretArn pulumi.StringOutput `pulumi:"secretArn"`
	// InstanceArn is the silo instance, for backups; empty for pool tenants.
	InstanceArn pulumi.StringOutput `pulumi:"instanceArn"`
	// MasterSecretArn is the RDS-managed master secret of a silo tenant's
	// instance: the provisioner's, never a service's.
	MasterSecretArn pulumi.StringOutput
	// Provisioned is the invocation that made the tenant's login and filled
	// its secret: what must have run before anything connects as the tenant.
	Provisioned pulumi.Resource
}

// DatabaseName is the tenant's database (and, for pool tenants, login role)
// name; the provisioner and the onboarding API name it the same way.
func DatabaseName(tenantID string) string {
	return tenantid.Database(tenantID)
}

// NewTenantDatabase builds one tenant's database by its plan.
func NewTenantDatabase(ctx *pulumi.Context, name string, args *TenantDatabaseArgs, opts ...pulumi.ResourceOption) (*TenantDatabase, error) {
	t := &TenantDatabase{}
	if err := ctx.RegisterComponentResource("saas:data:TenantDatabase", name, t, opts...); err != nil {
		return nil, err
	}
	tenant := args.Tenant
	tags := map[string]string{"TenantId": tenant.ID, "Plan": tenant.Plan.Name}
	database := DatabaseName(tenant.ID)
	t.Database = pulumi.String(database).ToStringOutput()
	t.Port = pulumi.Int(5432).ToIntOutput()

	var err error
	if tenant.Plan.Isolation == config.Silo {
		err = t.silo(ctx, name, args, tags, database)
	} else {
		err = t.pool(ctx, name, args, tags, database)
	}
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", tenant.ID, err)
	}

	if tenant.Plan.Isolation == config.Silo {
		// A pool tenant's parameters are the provisioner's.
		if err := publishParameters(ctx, t, name, args.ParameterPath,
			fmt.Sprintf("Tenant %s (%s): PostgreSQL", tenant.ID, tenant.Plan.Name), args.KeyArn,
			map[string]pulumi.StringInput{
				"host": t.Host, "port": pulumi.String("5432"), "database": t.Database, "secret-arn": t.SecretArn,
			}, tags); err != nil {
			return nil, fmt.Errorf("tenant %s: parameters: %w", tenant.ID, err)
		}
	}

	if err := ctx.RegisterResourceOutputs(t, pulumi.Map{
		"host": t.Host, "port": t.Port, "database": t.Database, "secretArn": t.SecretArn,
	}); err != nil {
		return nil, err
	}
	return t, nil
}

// silo gives the tenant its own instance. With protection on (prod) it is
// protected and retained: removing the tenant from the stack file leaves the
// instance running until someone deletes it on purpose, unless the tenant
// was marked onRemove: drop in an earlier deployment.
func (t *TenantDatabase) silo(ctx *pulumi.Context, name string, args *TenantDatabaseArgs, tags map[string]string, database string) error {
	db := args.Tenant.Database
	keep := args.Protect && args.Tenant.OnRemove != config.OnRemoveDrop
	instance, err := newPostgres(ctx, name, args.Postgres, postgresInstance{
		identifier:          args.Identifier,
		instanceClass:       db.InstanceClass,
		engineVersion:       args.EngineVersion,
		allocatedStorage:    db.AllocatedStorage,
		maxAllocatedStorage: db.MaxAllocatedStorage,
		multiAz:             db.MultiAz,
		backupRetentionDays: db.BackupRetentionDays,
		dbName:              database,
		protect:             keep,
		retainOnDelete:      keep,
		finalSnapshot:       args.Protect,
		tags:                tags,
	}, t)
	if err != nil {
		return err
	}
	// The tenant's credentials: a login of its own, not the master user.
	// The secret is a stack resource, made empty (a silo tenant is not
	// held to the pool tenants' two resources); provisionSiloLogin has the
	// provisioner fill it.
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:                 pulumi.String(args.SecretName),
		Description:          pulumi.String(fmt.Sprintf("Tenant %s: credentials for database %s in its own PostgreSQL %s", args.Tenant.ID, database, args.Identifier)),
		KmsKeyId:             args.KeyArn,
		RecoveryWindowInDays: pulumi.Int(RecoveryWindowDays(args.Protect)),
		Tags:                 pulumi.ToStringMap(tags),
	}, pulumi.Parent(t), pulumi.RetainOnDelete(keep))
	if err != nil {
		return err
	}
	t.Host = instance.Address
	t.SecretArn = secret.Arn
	t.MasterSecretArn = masterSecretArn(args.Identifier, instance)
	t.InstanceArn = instance.Arn
	return nil
}

// provisionSiloLogin has the provisioner create the silo tenant's login in
// its instance (the database RDS created, owned by the login from then on,
// with no connection limit: the instance is the tenant's alone) and write
// its password into the tenant's secret. The data go with the instance,
// never with the invocation: its removal only stops the login, so that a
// final snapshot still holds the database.
func (t *TenantDatabase) provisionSiloLogin(ctx *pulumi.Context, name string, tenant config.Tenant,
	function pulumi.StringInput, deps []pulumi.Resource) error {
	database := DatabaseName(tenant.ID)
	input := pulumi.All(t.Host, t.MasterSecretArn, t.SecretArn).ApplyT(func(v []any) (string, error) {
		body, err := json.Marshal(map[string]any{
			"database":        database,
			"connectionLimit": tenantdb.NoConnectionLimit,
			"host":            v[0],
			"port":            PostgresPort,
			"masterSecretArn": v[1],
			"tenantSecretArn": v[2],
			"onRemove":        config.OnRemoveKeep,
		})
		return string(body), err
	}).(pulumi.StringOutput)
	login, err := lambda.NewInvocation(ctx, name+"-login", &lambda.InvocationArgs{
		FunctionName:   function,
		Input:          input,
		LifecycleScope: pulumi.String("CRUD"),
		TerraformKey:   pulumi.String("tf"),
	}, pulumi.Parent(t), pulumi.DependsOn(deps))
	if err != nil {
		return err
	}
	t.Provisioned = login
	return nil
}

// FactsByProvisioner is the tenants output's "facts" value of a pool tenant
// whose secret and parameters the provisioner owns; deployments before it
// made them as stack resources.
const FactsByProvisioner = "provisioner"

// pool invokes the provisioning function, which creates the tenant's
// secret, role, database and connection-fact parameters: the stack holds
// the component and the invocation only, two resources per pool tenant,
// however many AWS objects the tenant has. The invocation follows the
// resource lifecycle: removing the tenant invokes it with "delete", which
// keeps the data (and, when protected, the credentials) unless the tenant
// was marked onRemove: drop.
func (t *TenantDatabase) pool(ctx *pulumi.Context, name string, args *TenantDatabaseArgs, tags map[string]string, database string) error {
	tenant := args.Tenant
	var legacySecret pulumi.StringOutput
	if args.LegacyFacts {
		var err error
		if legacySecret, err = t.legacyFacts(ctx, name, args, tags, database); err != nil {
			return err
		}
	}
	owned := tenantdb.PoolTags(tenant.ID, tenant.Plan.Name, tenant.Pool)
	input := pulumi.All(args.SharedHost, args.SharedSecretArn, args.KeyArn).ApplyT(func(v []any) (string, error) {
		body, err := json.Marshal(map[string]any{
			"database":        database,
			"connectionLimit": tenant.Plan.ConnectionLimit,
			"host":            v[0],
			"port":            PostgresPort,
			"masterSecretArn": v[1],
			"onRemove":        tenant.OnRemove,
			"secretName":      args.SecretName,
			"parameterPath":   args.ParameterPath,
			"kmsKeyId":        v[2],
			"description":     tenantdb.PoolDescription(tenant.ID, tenant.Plan.Name, tenant.Pool),
			"tags":            owned,
			"protect":         args.Protect,
		})
		return string(body), err
	}).(pulumi.StringOutput)
	invocation, err := lambda.NewInvocation(ctx, name, &lambda.InvocationArgs{
		FunctionName:   args.ProvisionerName,
		Input:          input,
		LifecycleScope: pulumi.String("CRUD"),
		TerraformKey:   pulumi.String("tf"),
	}, pulumi.Parent(t), pulumi.DependsOn(args.ProvisionerDepend))
	if err != nil {
		return err
	}
	t.Provisioned = invocation
	t.Host = args.SharedHost.ToStringOutput()
	t.SecretArn = invocation.Result.ApplyT(func(result string) (string, error) {
		var r struct {
			SecretArn string `json:"secretArn"`
		}
		if err := json.Unmarshal([]byte(result), &r); err != nil || r.SecretArn == "" {
			return "", fmt.Errorf("the tenant provisioner returned no secretArn for tenant %s (result %q): "+
				"deploy the function from this commit, or see its log group", tenant.ID, result)
		}
		return r.SecretArn, nil
	}).(pulumi.StringOutput)
	if args.LegacyFacts {
		t.SecretArn = legacySecret
	}
	t.InstanceArn = pulumi.String("").ToStringOutput()
	return nil
}

// legacyFacts registers, once more and exactly as deployments before the
// provisioner owned them made them, the tenant's secret and parameters,
// now retained on delete: the deployment after this one drops them from
// the stack without deleting them, and the provisioner, which adopted them
// in this one, owns them from then on. Without this step, dropping them
// would delete them after the provisioner had written them.
func (t *TenantDatabase) legacyFacts(ctx *pulumi.Context, name string, args *TenantDatabaseArgs, tags map[string]string, database string) (pulumi.StringOutput, error) {
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:                 pulumi.String(args.SecretName),
		Description:          pulumi.String(fmt.Sprintf("Tenant %s: credentials for database %s in the shared PostgreSQL", args.Tenant.ID, database)),
		KmsKeyId:             args.KeyArn,
		RecoveryWindowInDays: pulumi.Int(RecoveryWindowDays(args.Protect)),
		Tags:                 pulumi.ToStringMap(tags),
	}, pulumi.Parent(t), pulumi.RetainOnDelete(true))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if err := publishParameters(ctx, t, name, args.ParameterPath,
		fmt.Sprintf("Tenant %s (%s): PostgreSQL", args.Tenant.ID, args.Tenant.Plan.Name), args.KeyArn,
		map[string]pulumi.StringInput{
			"host": args.SharedHost, "port": pulumi.String("5432"), "database": pulumi.String(database), "secret-arn": secret.Arn,
		}, tags, pulumi.RetainOnDelete(true)); err != nil {
		return pulumi.StringOutput{}, err
	}
	return secret.Arn, nil
}

// RecoveryWindowDays: protected environments keep a deleted secret 30 days;
// others delete at once so a tenant can be re-created under the same name.
func RecoveryWindowDays(protect bool) int {
	if protect {
		return 30
	}
	return 0
}
