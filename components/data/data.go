package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/pgcapacity"
	"github.com/saas-platform/saas-platform/internal/tenantdb"
	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// DBInstanceQuota is the default number of RDS instances per region; the
// component warns as the environment nears it.
const DBInstanceQuota = 40

// NetworkInputs is what the data stores need from the network.
type NetworkInputs struct {
	PrivateSubnetIds pulumi.StringArrayInput
	// CacheSubnetIds are the cache subnet group's subnets (the isolated
	// ones), which a serverless cache names directly.
	CacheSubnetIds             pulumi.StringArrayInput
	DatabaseSubnetGroupName    pulumi.StringInput
	CacheSubnetGroupName       pulumi.StringInput
	DatabaseSecurityGroupId    pulumi.StringInput
	CacheSecurityGroupId       pulumi.StringInput
	ProvisionerSecurityGroupId pulumi.StringInput
}

// DataArgs configures Data.
type DataArgs struct {
	Project     string
	Environment string
	Region      string
	// PathPrefix is the environment's path, /<project>/<stack>: SSM
	// parameters and log groups live under it, and secrets under the same
	// path without its leading slash.
	PathPrefix string
	KeyArn     pulumi.StringInput
	Network    NetworkInputs

	// NetworkReady is the network the provisioner needs to reach the
	// database, every resource of it: invocations depend on them, so that
	// on removal they run before its routes and security-group rules go.
	NetworkReady []pulumi.Resource

	Database config.Database
	Cache    config.Cache
	Tenants  []config.Tenant
	// ServiceLogins are the services that use the shared PostgreSQL: each
	// gets a login of its own, in a secret of its own, capped at the
	// connections the capacity rule counts for it.
	ServiceLogins []pgcapacity.Service
	Buckets       []config.Bucket
	// LegacyFacts are the pool tenants whose secret and parameters the
	// previous deployment made as stack resources: this deployment hands
	// them to the provisioner (see TenantDatabaseArgs.LegacyFacts).
	LegacyFacts map[string]bool

	LogRetentionDays int
	// Protect turns on deletion protection, final snapshots and Pulumi
	// protect/retain for every stateful resource.
	Protect bool
	// BackupPlan puts the databases under AWS Backup.
	BackupPlan bool
	// Backups are the backup plan's disaster-recovery copy, retention and
	// restore tests.
	Backups BackupSettings
	// CacheNotificationTopicArn receives ElastiCache's events about the
	// cache; nil: no notifications.
	CacheNotificationTopicArn pulumi.StringInput
}

// BackupSettings are the backup plan's settings beyond its schedule.
type BackupSettings struct {
	MonthlyRetentionDays int
	// DRRegion, when set, receives a copy of every backup, through
	// DRProvider: a provider for that region with the stack's settings.
	DRRegion   string
	DRProvider pulumi.ProviderResource
	// RestoreTesting restores every database's latest backup monthly.
	RestoreTesting bool
	// NotificationTopicArn receives the vaults' copy and restore events;
	// nil: no notifications.
	NotificationTopicArn pulumi.StringInput
}

// Data is the environment's stateful layer.
type Data struct {
	pulumi.ResourceState

	DatabaseAddress    pulumi.StringOutput `pulumi:"databaseAddress"`
	DatabaseSecretArn  pulumi.StringOutput `pulumi:"databaseSecretArn"`
	CacheEndpoint      pulumi.StringOutput `pulumi:"cacheEndpoint"`
	CacheAuthSecretArn pulumi.StringOutput `pulumi:"cacheAuthSecretArn"`
	// Tenants maps tenant id to {plan, isolation, host, port, database,
	// secretArn, allocatedStorage, maxAllocatedStorage, onRemove}: what
	// services need to reach a tenant, and what the next deployment (and the
	// tenants command) checks changes against.
	Tenants pulumi.MapOutput `pulumi:"tenants"`
	// TenantSecretArns maps every stack-file tenant, pool and silo, to its
	// credentials' secret; TenantsProvisioned are the invocations that made
	// their logins: migrations connect as the tenant only after them.
	TenantSecretArns   pulumi.StringMapOutput
	TenantsProvisioned []pulumi.Resource
	// MasterSecretArns are the RDS-managed master secrets of every
	// instance, the pools' first: the provisioner's alone.
	MasterSecretArns pulumi.StringArrayOutput
	// TenantSecretsArn matches every tenant's credentials secret, pool and
	// silo, and nothing else: what access: [{tenants: read}] grants.
	TenantSecretsArn string
	// ServiceLoginSecretArns maps a service that uses the database to the
	// secret of its own login (JSON with a url key).
	ServiceLoginSecretArns map[string]pulumi.StringOutput
	// Databases are the PostgreSQL instances (shared first), and CacheNodes
	// the Redis nodes: what alarms and the dashboard watch.
	Databases  []DatabaseRef
	CacheNodes []string
	// ServerlessCache is the serverless cache's name; empty with nodes.
	ServerlessCache string
	// Buckets maps a stack-file bucket name to the bucket.
	Buckets map[string]BucketRef
	// DatabasePools maps every instance that holds pool tenants
	// (config.SharedPool and each of database.pools) to {identifier, host,
	// secretArn}: where operators find each pool.
	DatabasePools pulumi.MapOutput `pulumi:"databasePools"`

	// Pools are the instances that hold pool tenants, by pool name (the
	// shared one is config.SharedPool).
	Pools map[string]PoolRef

	// provisioner is what every function that provisions pool tenants
	// shares: network path, key and credentials.
	provisioner provisionerArgs
	pathPrefix  string
	code        pulumi.Archive
}

// PoolRef is where an instance holding pool tenants is, and its master
// credentials' secret.
type PoolRef struct {
	Address   pulumi.StringOutput
	SecretArn pulumi.StringOutput
}

// TenantFunctionArgs configures a function that provisions pool tenants
// outside the deployment (the onboarding worker).
type TenantFunctionArgs struct {
	// Name is the function's short name: its log group is
	// <prefix>/lambda/<name>.
	Name        string
	Description string
	// Statements are what the function may do beyond the provisioner's own
	// permissions.
	Statements []awspolicy.Statement
	// KeyServices are the services (dynamodb, sqs, ...) through which the
	// function may use the environment's key, beyond Secrets Manager.
	KeyServices []string
	Environment pulumi.StringMap
	Timeout     int // seconds
	// Policy, when set, is a further policy document of the function's,
	// made of other resources' outputs; the function waits for it.
	Policy pulumi.StringInput
}

// TenantFunction builds a function from the provisioner's code, in its
// subnets and security group, with its permissions on the tenants'
// credentials and the master secret, plus args.Statements: so that a pool
// tenant made at run time is made exactly as a stack-file one.
func (d *Data) TenantFunction(ctx *pulumi.Context, name string, args TenantFunctionArgs, parent pulumi.Resource) (*lambda.Function, error) {
	code, err := d.ProvisionerCode()
	if err != nil {
		return nil, err
	}
	pa := d.provisioner
	pa.logGroupName = d.pathPrefix + "/lambda/" + args.Name
	pa.code = code
	pa.description, pa.extra, pa.environment, pa.timeout = args.Description, args.Statements, args.Environment, args.Timeout
	pa.keyServices, pa.policy = args.KeyServices, args.Policy
	function, _, _, err := newProvisioner(ctx, name, pa, parent)
	return function, err
}

// ProvisionerCode is the provisioner's deployment package (cmd/tenantdb),
// found or built once for the environment: every function that runs it
// (the provisioner, the onboarding API and its worker) deploys the same.
func (d *Data) ProvisionerCode() (pulumi.Archive, error) {
	if d.code == nil {
		pkg, err := ProvisionerPackage()
		if err != nil {
			return nil, err
		}
		d.code = pulumi.NewFileArchive(pkg)
	}
	return d.code, nil
}

// SharedDatabaseName is the database the shared instance is created with.
const SharedDatabaseName = tenantid.SharedDatabase

// DatabaseRef names one PostgreSQL instance for monitoring.
type DatabaseRef struct {
	Identifier       string
	AllocatedStorage int // GiB
	Tags             map[string]string
}

// CacheNodeIDs are the node ids ElastiCache gives a replication group's
// members, which its metrics are reported by.
func CacheNodeIDs(groupID string, c config.Cache) []string {
	var ids []string
	if !c.ClusterMode {
		for n := 1; n <= 1+c.ReplicasPerShard; n++ {
			ids = append(ids, fmt.Sprintf("%s-%03d", groupID, n))
		}
		return ids
	}
	for shard := 1; shard <= c.Shards; shard++ {
		for n := 1; n <= 1+c.ReplicasPerShard; n++ {
			ids = append(ids, fmt.Sprintf("%s-%04d-%03d", groupID, shard, n))
		}
	}
	return ids
}

// NewData builds the shared PostgreSQL, every tenant's database, Redis and,
// when asked, the backup plan.
func NewData(ctx *pulumi.Context, name string, args *DataArgs, opts ...pulumi.ResourceOption) (*Data, error) {
	if args == nil {
		return nil, fmt.Errorf("data %s: args are required", name)
	}
	d := &Data{}
	if err := ctx.RegisterComponentResource("saas:data:Data", name, d, opts...); err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(d))
	if err != nil {
		return nil, fmt.Errorf("data %s: reading the account id: %w", name, err)
	}
	identifier := args.Project + "-" + args.Environment
	secretPrefix := strings.TrimPrefix(args.PathPrefix, "/")
	d.TenantSecretsArn = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s/tenants/*", args.Region, caller.AccountId, secretPrefix)

	silos := 0
	for _, t := range args.Tenants {
		if t.Plan.Isolation == config.Silo {
			silos++
		}
	}
	if msg := quotaWarning(identifier, len(args.Database.Pools), silos); msg != "" {
		_ = ctx.Log.Warn(msg, &pulumi.LogArgs{Resource: d})
	}

	paramGroup, err := newParameterGroup(ctx, name, args.Database.EngineVersion, d)
	if err != nil {
		return nil, fmt.Errorf("data %s: parameter group: %w", name, err)
	}
	shared := postgresShared{
		subnetGroup:         args.Network.DatabaseSubnetGroupName,
		securityGroup:       args.Network.DatabaseSecurityGroupId,
		parameterGroup:      paramGroup.Name,
		keyArn:              args.KeyArn,
		logRetention:        args.LogRetentionDays,
		performanceInsights: args.Database.PerformanceInsights,
		monitoringInterval:  args.Database.MonitoringInterval,
		logExports:          args.Database.LogExports,
	}
	if args.Database.MonitoringInterval > 0 {
		role, policy, err := newMonitoringRole(ctx, name+"-rds-monitoring", caller.AccountId, d)
		if err != nil {
			return nil, fmt.Errorf("data %s: monitoring role: %w", name, err)
		}
		shared.monitoringRole = role.Arn
		shared.monitoringReady = []pulumi.Resource{policy}
	}

	db := args.Database
	// The shared instance and every pool are built by one function, so a
	// pool is hardened exactly as the shared instance is.
	pools := map[string]*poolInstance{}
	for _, pool := range append([]config.DatabasePool{{
		Name: config.SharedPool, InstanceClass: db.InstanceClass,
		AllocatedStorage: db.AllocatedStorage, MaxAllocatedStorage: db.MaxAllocatedStorage,
	}}, db.Pools...) {
		instance, err := newPoolInstance(ctx, name, args, shared, pool, d)
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
		pools[pool.Name] = instance
		d.Databases = append(d.Databases, DatabaseRef{Identifier: instance.identifier, AllocatedStorage: pool.AllocatedStorage, Tags: instance.tags})
	}
	sharedDB := pools[config.SharedPool]
	d.DatabaseAddress = sharedDB.address
	d.DatabaseSecretArn = sharedDB.masterSecretArn
	poolOutputs := pulumi.Map{}
	for poolName, pool := range pools {
		poolOutputs[poolName] = pulumi.Map{
			"identifier": pulumi.String(pool.identifier), "host": pool.address, "secretArn": pool.masterSecretArn,
		}
	}
	d.DatabasePools = poolOutputs.ToMapOutput()
	masterSecrets := pulumi.StringArray{}
	d.Pools = map[string]PoolRef{}
	for _, pool := range append([]config.DatabasePool{{Name: config.SharedPool}}, db.Pools...) {
		masterSecrets = append(masterSecrets, pools[pool.Name].masterSecretArn)
		d.Pools[pool.Name] = PoolRef{Address: pools[pool.Name].address, SecretArn: pools[pool.Name].masterSecretArn}
	}

	d.provisioner = provisionerArgs{
		region: args.Region, account: caller.AccountId,
		logRetention:        args.LogRetentionDays,
		keyArn:              args.KeyArn,
		subnetIds:           args.Network.PrivateSubnetIds,
		securityGroupId:     args.Network.ProvisionerSecurityGroupId,
		masterSecretArns:    masterSecrets,
		tenantSecretsArn:    d.TenantSecretsArn,
		tenantParametersArn: fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s/tenants/*", args.Region, caller.AccountId, args.PathPrefix),
	}
	d.pathPrefix = args.PathPrefix
	var provisionerName pulumi.StringInput
	var provisionerDeps []pulumi.Resource
	var provisionerRole *iam.Role
	if len(args.Tenants) > 0 || len(args.ServiceLogins) > 0 {
		code, err := d.ProvisionerCode()
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
		pa := d.provisioner
		pa.logGroupName = args.PathPrefix + "/lambda/tenant-provisioner"
		pa.code = code
		pa.serviceSecretsArn = serviceSecretsArn(args.Region, caller.AccountId, secretPrefix)
		function, role, deps, err := newProvisioner(ctx, name+"-tenant-provisioner", pa, d)
		if err != nil {
			return nil, fmt.Errorf("data %s: tenant provisioner: %w", name, err)
		}
		provisionerName, provisionerDeps, provisionerRole = function.Name, deps, role
		provisionerDeps = append(provisionerDeps, args.NetworkReady...)
	}

	d.ServiceLoginSecretArns = map[string]pulumi.StringOutput{}
	for _, login := range args.ServiceLogins {
		service := login.Name
		arn, err := newServiceLogin(ctx, name+"-login-"+service, serviceLoginArgs{
			service:    service,
			limit:      login.Connections(),
			secretName: secretPrefix + "/services/" + service + "/database",
			keyArn:     args.KeyArn,
			protect:    args.Protect,
			host:       sharedDB.address,
			master:     sharedDB.masterSecretArn,
			function:   provisionerName,
			deps:       provisionerDeps,
		}, d)
		if err != nil {
			return nil, fmt.Errorf("data %s: service %s's login: %w", name, service, err)
		}
		d.ServiceLoginSecretArns[service] = arn
	}

	tenants := pulumi.Map{}
	tenantSecrets := pulumi.StringMap{}
	var provisioned []*TenantDatabase
	databaseArns := pulumi.StringArray{}
	for _, pool := range append([]config.DatabasePool{{Name: config.SharedPool}}, db.Pools...) {
		databaseArns = append(databaseArns, pools[pool.Name].arn)
	}
	siloMasters := pulumi.StringArray{}
	var silosToLogin []*TenantDatabase
	var siloNames []string
	var siloTenants []config.Tenant
	for _, t := range args.Tenants {
		host, masterSecret := pulumi.StringInput(pulumi.String("")), pulumi.StringInput(pulumi.String(""))
		if pool, ok := pools[t.Pool]; ok {
			host, masterSecret = pool.address, pool.masterSecretArn
		}
		td, err := NewTenantDatabase(ctx, name+"-tenant-"+t.ID, &TenantDatabaseArgs{
			Tenant:            t,
			Identifier:        identifier + "-" + t.ID,
			SecretName:        tenantdb.Layout{PathPrefix: args.PathPrefix}.SecretName(t.ID),
			ParameterPath:     tenantdb.Layout{PathPrefix: args.PathPrefix}.ParameterPath(t.ID),
			KeyArn:            args.KeyArn,
			Protect:           args.Protect,
			Postgres:          shared,
			EngineVersion:     db.EngineVersion,
			SharedHost:        host,
			SharedSecretArn:   masterSecret,
			ProvisionerName:   provisionerName,
			ProvisionerDepend: provisionerDeps,
			LegacyFacts:       args.LegacyFacts[t.ID] && t.Plan.Isolation == config.Pool,
		}, pulumi.Parent(d))
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
		if t.Plan.Isolation == config.Silo {
			d.Databases = append(d.Databases, DatabaseRef{
				Identifier: identifier + "-" + t.ID, AllocatedStorage: t.Database.AllocatedStorage,
				Tags: map[string]string{"TenantId": t.ID, "Plan": t.Plan.Name},
			})
			databaseArns = append(databaseArns, td.InstanceArn)
			siloMasters = append(siloMasters, td.MasterSecretArn)
			silosToLogin = append(silosToLogin, td)
			siloNames = append(siloNames, name+"-tenant-"+t.ID)
			siloTenants = append(siloTenants, t)
		}
		provisioned = append(provisioned, td)
		tenantSecrets[t.ID] = td.SecretArn
		tenants[t.ID] = pulumi.Map{
			"plan":                pulumi.String(t.Plan.Name),
			"isolation":           pulumi.String(string(t.Plan.Isolation)),
			"host":                td.Host,
			"port":                td.Port,
			"database":            td.Database,
			"secretArn":           td.SecretArn,
			"allocatedStorage":    pulumi.Int(t.Database.AllocatedStorage),
			"maxAllocatedStorage": pulumi.Int(t.Database.MaxAllocatedStorage),
			// A removal deletes the data only once a deployment says drop.
			"onRemove": pulumi.String(t.OnRemove),
			// Placement is stable: the next deployment refuses a move.
			"pool": pulumi.String(t.Pool),
		}
		if t.Plan.Isolation == config.Pool {
			tenants[t.ID].(pulumi.Map)["facts"] = pulumi.String(FactsByProvisioner)
		}
	}
	d.Tenants = tenants.ToMapOutput()
	d.TenantSecretArns = tenantSecrets.ToStringMapOutput()
	d.MasterSecretArns = append(slices.Clone(masterSecrets), siloMasters...).ToStringArrayOutput()
	if len(silosToLogin) > 0 {
		// The silo instances exist only now: the provisioner may read their
		// master secrets through a policy of its own, which every silo
		// login waits for.
		policy, err := siloMastersPolicy(ctx, name+"-tenant-provisioner-silo-masters", provisionerRole, siloMasters, d)
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
		deps := append(slices.Clone(provisionerDeps), policy)
		for i, td := range silosToLogin {
			if err := td.provisionSiloLogin(ctx, siloNames[i], siloTenants[i], provisionerName, deps); err != nil {
				return nil, fmt.Errorf("data %s: tenant %s's login: %w", name, siloTenants[i].ID, err)
			}
		}
	}
	for _, td := range provisioned {
		if td.Provisioned != nil {
			d.TenantsProvisioned = append(d.TenantsProvisioned, td.Provisioned)
		}
	}

	cache, err := newCache(ctx, name+"-redis", cacheArgs{
		replicationGroupID: identifier,
		settings:           args.Cache,
		subnetGroup:        args.Network.CacheSubnetGroupName,
		subnets:            args.Network.CacheSubnetIds,
		securityGroup:      args.Network.CacheSecurityGroupId,
		keyArn:             args.KeyArn,
		logGroupName:       args.PathPrefix + "/redis/slow-log",
		logRetention:       args.LogRetentionDays,
		secretName:         secretPrefix + "/cache/auth-token",
		parameterPath:      args.PathPrefix + "/cache",
		protect:            args.Protect,
		notificationTopic:  args.CacheNotificationTopicArn,
	}, d)
	if err != nil {
		return nil, fmt.Errorf("data %s: redis: %w", name, err)
	}
	d.CacheEndpoint, d.CacheAuthSecretArn = cache.endpoint, cache.authSecretArn
	if args.Cache.IsServerless() {
		d.ServerlessCache = ServerlessCacheName(identifier)
	} else {
		d.CacheNodes = CacheNodeIDs(identifier, args.Cache)
	}

	d.Buckets = map[string]BucketRef{}
	for _, b := range args.Buckets {
		if d.Buckets[b.Name], err = newBucket(ctx, name+"-"+b.Name, b, args.KeyArn, args.Protect, d); err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
	}

	if args.BackupPlan {
		if err := newBackups(ctx, name, backupArgs{
			BackupSettings: args.Backups,
			project:        args.Project,
			environment:    args.Environment,
			account:        caller.AccountId,
			keyArn:         args.KeyArn,
			databases:      databaseArns,
			subnetGroup:    args.Network.DatabaseSubnetGroupName,
			protect:        args.Protect,
		}, d); err != nil {
			return nil, fmt.Errorf("data %s: backups: %w", name, err)
		}
	}

	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"databaseAddress":    d.DatabaseAddress,
		"databaseSecretArn":  d.DatabaseSecretArn,
		"cacheEndpoint":      d.CacheEndpoint,
		"cacheAuthSecretArn": d.CacheAuthSecretArn,
		"tenants":            d.Tenants,
		"databasePools":      d.DatabasePools,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// poolInstance is an instance that holds pool tenants: the shared one or a
// pool of database.pools.
type poolInstance struct {
	identifier      string
	tags            map[string]string
	address         pulumi.StringOutput
	arn             pulumi.StringOutput
	masterSecretArn pulumi.StringOutput
}

// newPoolInstance builds the shared instance (pool "shared") or a pool,
// with the database section's settings and protection, and publishes its
// connection facts: /<prefix>/database for the shared instance,
// /<prefix>/database/pools/<name> for a pool.
func newPoolInstance(ctx *pulumi.Context, name string, args *DataArgs, shared postgresShared, pool config.DatabasePool, parent pulumi.Resource) (*poolInstance, error) {
	db := args.Database
	identifier := config.PoolIdentifier(args.Project, args.Environment, pool.Name)
	resourceName, path, description := name, args.PathPrefix+"/database", "Shared PostgreSQL"
	var tags map[string]string
	if pool.Name != config.SharedPool {
		resourceName = name + "-pool-" + pool.Name
		path = args.PathPrefix + "/database/pools/" + pool.Name
		description = "Pool " + pool.Name + " PostgreSQL"
		tags = map[string]string{"Pool": pool.Name}
	}
	instance, err := newPostgres(ctx, resourceName, shared, postgresInstance{
		identifier:          identifier,
		instanceClass:       pool.InstanceClass,
		engineVersion:       db.EngineVersion,
		allocatedStorage:    pool.AllocatedStorage,
		maxAllocatedStorage: pool.MaxAllocatedStorage,
		multiAz:             db.MultiAz,
		backupRetentionDays: db.BackupRetentionDays,
		dbName:              SharedDatabaseName,
		protect:             args.Protect,
		retainOnDelete:      args.Protect,
		finalSnapshot:       args.Protect,
		tags:                tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	p := &poolInstance{
		identifier: identifier, tags: tags, address: instance.Address, arn: instance.Arn,
		masterSecretArn: masterSecretArn(identifier, instance),
	}
	if err := publishParameters(ctx, parent, resourceName+"-database", path, description, args.KeyArn,
		map[string]pulumi.StringInput{
			"host": p.address, "port": pulumi.String(fmt.Sprint(PostgresPort)), "secret-arn": p.masterSecretArn,
		}, tags); err != nil {
		return nil, err
	}
	return p, nil
}

// quotaWarning says when the environment's RDS instances reach 80 % of the
// default regional quota.
func quotaWarning(identifier string, pools, silos int) string {
	total := 1 + pools + silos
	if total*5 < DBInstanceQuota*4 {
		return ""
	}
	return fmt.Sprintf("%s runs %d RDS instances (1 shared + %d pools + %d silo tenants); the default quota is %d per region: "+
		"request an increase before adding silo tenants or pools", identifier, total, pools, silos, DBInstanceQuota)
}
