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
	// MasterSecretArn is the RDS-managed master secret of the instance the
	// tenant lives in: the provisioner's, never a service's.
	MasterSecretArn pulumi.StringOutput
}

// DatabaseName is the tenant's database (and, for pool tenants, login role)
// name: the id with hyphens as underscores, which RDS accepts as a DbName.
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

	if err := publishParameters(ctx, t, name, args.ParameterPath,
		fmt.Sprintf("Tenant %s (%s): PostgreSQL", tenant.ID, tenant.Plan.Name), args.KeyArn,
		map[string]pulumi.StringInput{
			"host": t.Host, "port": pulumi.String("5432"), "database": t.Database, "secret-arn": t.SecretArn,
		}, tags); err != nil {
		return nil, fmt.Errorf("tenant %s: parameters: %w", tenant.ID, err)
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
//
// The instance's RDS-managed master secret belongs to the provisioner: the
// tenant's credentials are a login of its own, which provisionSiloLogin has
// the provisioner create, in the tenant's secret like a pool tenant's.
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
	secret, err := t.credentialsSecret(ctx, name, args, tags,
		fmt.Sprintf("Tenant %s: credentials for database %s in its dedicated PostgreSQL %s", args.Tenant.ID, database, args.Identifier))
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
// its instance (the database RDS created, owned by the login from then on)
// and write its password into the tenant's secret. The data go with the
// instance, never with the invocation: its removal only stops the login,
// so that a final snapshot still holds the database.
func (t *TenantDatabase) provisionSiloLogin(ctx *pulumi.Context, name string, tenant config.Tenant,
	provisionerName pulumi.StringInput, deps []pulumi.Resource) error {
	return invokeProvisioner(ctx, name+"-login", provisionerRequest{
		database: DatabaseName(tenant.ID), connectionLimit: tenantdb.NoConnectionLimit,
		host: t.Host, master: t.MasterSecretArn, secret: t.SecretArn, onRemove: config.OnRemoveKeep,
	}, provisionerName, deps, t)
}

// credentialsSecret is the tenant's credentials secret, made empty: only
// the provisioner writes its value.
func (t *TenantDatabase) credentialsSecret(ctx *pulumi.Context, name string, args *TenantDatabaseArgs, tags map[string]string,
	description string) (*secretsmanager.Secret, error) {
	return secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:                 pulumi.String(args.SecretName),
		Description:          pulumi.String(description),
		KmsKeyId:             args.KeyArn,
		RecoveryWindowInDays: pulumi.Int(RecoveryWindowDays(args.Protect)),
		Tags:                 pulumi.ToStringMap(tags),
	}, pulumi.Parent(t), pulumi.RetainOnDelete(args.Protect && args.Tenant.OnRemove != config.OnRemoveDrop))
}

// pool creates the tenant's secret, empty, and invokes the provisioning
// function, which creates the role and database and writes the password
// into the secret. The invocation follows the resource lifecycle: removing
// the tenant invokes it with "delete", which keeps the data unless the
// tenant was marked onRemove: drop.
func (t *TenantDatabase) pool(ctx *pulumi.Context, name string, args *TenantDatabaseArgs, tags map[string]string, database string) error {
	secret, err := t.credentialsSecret(ctx, name, args, tags,
		fmt.Sprintf("Tenant %s: credentials for database %s in the shared PostgreSQL", args.Tenant.ID, database))
	if err != nil {
		return err
	}
	if err := invokeProvisioner(ctx, name, provisionerRequest{
		database: database, connectionLimit: args.Tenant.Plan.ConnectionLimit,
		host: args.SharedHost, master: args.SharedSecretArn, secret: secret.Arn, onRemove: args.Tenant.OnRemove,
	}, args.ProvisionerName, args.ProvisionerDepend, t); err != nil {
		return err
	}
	t.Host = args.SharedHost.ToStringOutput()
	t.SecretArn = secret.Arn
	t.MasterSecretArn = args.SharedSecretArn.ToStringOutput()
	t.InstanceArn = pulumi.String("").ToStringOutput()
	return nil
}

// provisionerRequest is one tenant's database and login, as the
// provisioner's event carries it.
type provisionerRequest struct {
	database        string
	connectionLimit int
	host, master    pulumi.StringInput
	secret          pulumi.StringInput
	onRemove        string
}

// invokeProvisioner creates, updates and (on removal) retires a tenant's
// login through the provisioning function, with the CRUD lifecycle.
func invokeProvisioner(ctx *pulumi.Context, name string, r provisionerRequest, function pulumi.StringInput, deps []pulumi.Resource,
	parent pulumi.Resource) error {
	input := pulumi.All(r.host, r.master, r.secret).ApplyT(func(v []any) (string, error) {
		body, err := json.Marshal(map[string]any{
			"database":        r.database,
			"connectionLimit": r.connectionLimit,
			"host":            v[0],
			"port":            PostgresPort,
			"masterSecretArn": v[1],
			"tenantSecretArn": v[2],
			"onRemove":        r.onRemove,
		})
		return string(body), err
	}).(pulumi.StringOutput)
	_, err := lambda.NewInvocation(ctx, name, &lambda.InvocationArgs{
		FunctionName:   function,
		Input:          input,
		LifecycleScope: pulumi.String("CRUD"),
		TerraformKey:   pulumi.String("tf"),
	}, pulumi.Parent(parent), pulumi.DependsOn(deps))
	return err
}

// RecoveryWindowDays: protected environments keep a deleted secret 30 days;
// others delete at once so a tenant can be re-created under the same name.
func RecoveryWindowDays(protect bool) int {
	if protect {
		return 30
	}
	return 0
}
