// Package platform composes one environment of saas-platform from the
// components, and is the whole Pulumi program: main.go runs Program against
// the Pulumi engine, the offline plan and the tests run it under mocks.
package platform

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	awsx "github.com/pulumi/pulumi-awsx/sdk/v2/go/awsx/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/components/compute"
	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/components/edge"
	"github.com/saas-platform/saas-platform/components/network"
	"github.com/saas-platform/saas-platform/components/observability"
	"github.com/saas-platform/saas-platform/components/onboarding"
	"github.com/saas-platform/saas-platform/config"
)

// Program is the Pulumi program.
func Program(ctx *pulumi.Context) error {
	keys, err := config.EngineKeys()
	if err != nil {
		return err
	}
	return Run(ctx, keys, ctx.Export)
}

// Run loads and validates the stack config (keys lists every key the stack
// sets), builds the platform and hands each stack output to export. Invalid
// config fails here, before any resource is registered.
func Run(ctx *pulumi.Context, keys []string, export func(name string, value pulumi.Input)) error {
	cfg, err := config.Load(ctx, keys)
	if err != nil {
		return err
	}
	previous, err := previousDeployment(ctx)
	if err != nil {
		return err
	}
	if err := config.CheckTransitions(cfg, previous); err != nil {
		return err
	}
	p, err := NewPlatform(ctx, cfg.Project+"-"+cfg.Name, &PlatformArgs{Stack: cfg, Previous: previous})
	if err != nil {
		return err
	}
	for name, value := range p.Outputs() {
		export(name, value)
	}
	return nil
}

// natStrategies maps the stack file's natGateways to awsx's strategies.
var natStrategies = map[string]awsx.NatGatewayStrategy{
	config.NatNone:     awsx.NatGatewayStrategyNone,
	config.NatSingle:   awsx.NatGatewayStrategySingle,
	config.NatOnePerAz: awsx.NatGatewayStrategyOnePerAz,
	// The NAT instance is the network component's own: awsx makes none.
	config.NatInstance: awsx.NatGatewayStrategyNone,
}

// PlatformArgs configures a Platform.
type PlatformArgs struct {
	Stack *config.Stack
	// Previous is what the last deployment recorded; nil or empty for a
	// first deployment.
	Previous *config.Deployed
}

// Platform is one environment: its tagged AWS provider and the components
// built with it.
type Platform struct {
	pulumi.ResourceState

	Provider *aws.Provider
	// DRProvider manages what lives in the disaster-recovery region, with
	// the stack's provider settings; nil without a DR region.
	DRProvider *aws.Provider
	// Events receives the data stores' event notices; nil when the
	// environment notifies nobody.
	Events  *observability.EventTopic
	Key     *data.EncryptionKey
	Network *network.Network
	Data    *data.Data
	// DatabaseSchedule stops and starts the databases; nil when the stack
	// never sleeps.
	DatabaseSchedule *data.DatabaseSchedule
	Compute          *compute.Compute
	Observer         *observability.Observability
	Domain           *edge.Domain
	// StaticAssets is nil without staticAssets.host.
	StaticAssets *edge.StaticAssets
	// Onboarding is the run-time onboarding API; nil without callers.
	Onboarding *onboarding.Onboarding

	stack *config.Stack
}

// NewPlatform builds the environment described by args.Stack.
func NewPlatform(ctx *pulumi.Context, name string, args *PlatformArgs, opts ...pulumi.ResourceOption) (*Platform, error) {
	if args == nil || args.Stack == nil {
		return nil, fmt.Errorf("platform %s: a resolved stack config is required", name)
	}
	cfg := args.Stack
	p := &Platform{stack: cfg}
	transformations := []pulumi.ResourceTransformation{deleteFirst}
	if cfg.DataProtection.Retire {
		transformations = append(transformations, retire)
	}
	opts = append(opts, pulumi.Transformations(transformations))
	if err := ctx.RegisterComponentResource("saas:platform:Platform", name, p, opts...); err != nil {
		return nil, err
	}

	provider, err := NewProvider(ctx, name, cfg, cfg.Region, pulumi.Parent(p))
	if err != nil {
		return nil, fmt.Errorf("platform %s: %w", name, err)
	}
	p.Provider = provider
	children := []pulumi.ResourceOption{pulumi.Parent(p), pulumi.Providers(provider)}

	// The key comes first: the network's flow logs are encrypted with it.
	p.Key, err = data.NewEncryptionKey(ctx, name, &data.EncryptionKeyArgs{
		Alias:  "alias/" + cfg.Project + "/" + cfg.Name,
		Region: cfg.Region,
		LogGroupPatterns: []string{
			PathPrefix(cfg) + "/*",
			"/aws/rds/instance/" + cfg.Project + "-" + cfg.Name + "/*",
			"/aws/rds/instance/" + cfg.Project + "-" + cfg.Name + "-*",
		},
		Protect: cfg.DataProtection.Protect,
	}, children...)
	if err != nil {
		return nil, err
	}

	netArgs := networkArgs(cfg)
	netArgs.Provider = provider
	netArgs.LogsKmsKeyArn = p.Key.Arn
	var sleepGroup pulumi.StringOutput
	if cfg.Schedule.On() {
		// One schedule group holds every sleep and wake-up of the stack
		// that EventBridge Scheduler runs: the NAT instance's, the
		// databases'.
		group, err := scheduler.NewScheduleGroup(ctx, name+"-sleep", &scheduler.ScheduleGroupArgs{
			Name: pulumi.String(cfg.Project + "-" + cfg.Name),
		}, children...)
		if err != nil {
			return nil, fmt.Errorf("platform %s: %w", name, err)
		}
		sleepGroup = group.Name
		netArgs.Sleep = network.SleepArgs{Schedule: cfg.Schedule, GroupName: sleepGroup}
	}
	p.Network, err = network.NewNetwork(ctx, name, netArgs, children...)
	if err != nil {
		return nil, err
	}

	backups := data.BackupSettings{
		MonthlyRetentionDays: cfg.DataProtection.MonthlyRetentionDays,
		RestoreTesting:       cfg.DataProtection.RestoreTesting,
	}
	if cfg.DataProtection.DR() {
		// The same account, role and settings as the stack's own provider,
		// in the DR region: copies land where the stack's owners can reach.
		p.DRProvider, err = NewProvider(ctx, name+"-dr", cfg, cfg.DataProtection.DRRegion, pulumi.Parent(p))
		if err != nil {
			return nil, fmt.Errorf("platform %s: %w", name, err)
		}
		backups.DRRegion, backups.DRProvider = cfg.DataProtection.DRRegion, p.DRProvider
	}
	var cacheEvents pulumi.StringInput
	if cfg.Alarms.Notify {
		// Before the data layer, which names it; observability, which
		// watches what the data layer built, comes last.
		p.Events, err = observability.NewEventTopic(ctx, name+"-data-events", &observability.EventTopicArgs{
			Project: cfg.Project, Environment: cfg.Name, Emails: cfg.Alerts.Emails,
		}, children...)
		if err != nil {
			return nil, err
		}
		cacheEvents, backups.NotificationTopicArn = p.Events.Arn, p.Events.Arn
	}

	p.Data, err = data.NewData(ctx, name, &data.DataArgs{
		Project:     cfg.Project,
		Environment: cfg.Name,
		Region:      cfg.Region,
		PathPrefix:  PathPrefix(cfg),
		KeyArn:      p.Key.Arn,
		Network: data.NetworkInputs{
			PrivateSubnetIds:           p.Network.PrivateSubnetIds,
			DatabaseSubnetGroupName:    p.Network.DatabaseSubnetGroupName,
			CacheSubnetGroupName:       p.Network.CacheSubnetGroupName,
			CacheSubnetIds:             p.Network.IsolatedSubnetIds,
			DatabaseSecurityGroupId:    p.Network.DatabaseSecurityGroupId,
			CacheSecurityGroupId:       p.Network.CacheSecurityGroupId,
			ProvisionerSecurityGroupId: p.Network.ProvisionerSecurityGroupId,
		},
		NetworkReady: p.Network.Members(),
		Database:     cfg.Database,
		Cache:        cfg.Cache,
		Tenants:      cfg.Tenants,
		LegacyFacts:  legacyFacts(args.Previous),
		Buckets:      cfg.Buckets,
		// Each service that uses the shared PostgreSQL gets its own login.
		ServiceLogins:    config.DatabaseLogins(cfg.Services),
		LogRetentionDays: cfg.Logs.RetentionDays,
		Protect:          cfg.DataProtection.Protect,
		BackupPlan:       cfg.DataProtection.BackupPlan,
		Backups:          backups,

		CacheNotificationTopicArn: cacheEvents,
	}, children...)
	if err != nil {
		return nil, err
	}

	if cfg.Schedule.On() {
		// Every instance the data component lists sleeps: shared, pools
		// and silo tenants alike, without a list kept here.
		p.DatabaseSchedule, err = data.NewDatabaseSchedule(ctx, name+"-sleep", &data.DatabaseScheduleArgs{
			Region: cfg.Region, GroupName: sleepGroup,
			Schedule: cfg.Schedule, Databases: p.Data.Databases,
		}, children...)
		if err != nil {
			return nil, err
		}
	}

	// The domain comes before compute: the HTTPS listener needs its
	// certificate, validated.
	p.Domain, err = edge.NewDomain(ctx, name, &edge.DomainArgs{
		Name: cfg.Domain.Name, Zone: cfg.Domain.Zone, CreateZone: cfg.Domain.CreateZone,
		Hosts: serviceHosts(cfg), CertificateArn: cfg.Domain.CertificateArn, Protect: cfg.DataProtection.Protect,
	}, children...)
	if err != nil {
		return nil, err
	}

	p.Compute, err = compute.NewCompute(ctx, name, &compute.ComputeArgs{
		Project:     cfg.Project,
		Environment: cfg.Name,
		Region:      cfg.Region,
		PathPrefix:  PathPrefix(cfg),
		KeyArn:      p.Key.Arn,
		Network: compute.NetworkInputs{
			VpcId:                       p.Network.VpcId,
			PublicSubnetIds:             p.Network.PublicSubnetIds,
			PrivateSubnetIds:            p.Network.PrivateSubnetIds,
			LoadBalancerSecurityGroupId: p.Network.LoadBalancerSecurityGroupId,
			ServiceSecurityGroupIds:     serviceGroups(p.Network),
		},
		Data: compute.DataInputs{
			CacheAuthSecretArn:     p.Data.CacheAuthSecretArn,
			TenantSecretsArn:       p.Data.TenantSecretsArn,
			ServiceLoginSecretArns: loginSecrets(p.Data),
			TenantSecretArns:       p.Data.TenantSecretArns,
			TenantsProvisioned:     p.Data.TenantsProvisioned,
		},
		Services:          cfg.Services,
		DefaultCapacity:   cfg.Compute.Capacity,
		ContainerInsights: cfg.Compute.ContainerInsights,
		LoadBalancer:      cfg.LoadBalancer,
		Certificate:       p.Domain.CertificateArn,
		LogRetentionDays:  cfg.Logs.RetentionDays,
		Protect:           cfg.DataProtection.Protect,

		WaitForSteadyState: cfg.Compute.WaitForSteadyState,
		PublicHost:         cfg.Domain.Name,
		Facts:              facts(cfg, p.Data),
		Buckets:            buckets(p.Data),
		Schedule:           cfg.Schedule,
		ScheduleGroup:      sleepGroup,
		MigrationCode:      p.Data.ProvisionerCode,
		RegistryTable:      registryTable(cfg),
	}, children...)
	if err != nil {
		return nil, err
	}

	if err := p.edge(ctx, name, cfg, children); err != nil {
		return nil, err
	}
	// After compute: the API's callers may be services' task roles.
	if err := p.onboarding(ctx, name, cfg, children); err != nil {
		return nil, err
	}

	// Observability comes last: it watches what the others built.
	p.Observer, err = observability.NewObservability(ctx, name, observabilityArgs(cfg, p), children...)
	if err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(p, pulumi.ToMap(map[string]any{})); err != nil {
		return nil, err
	}
	return p, nil
}

// legacyFacts are the pool tenants whose secret and parameters the last
// deployment made as stack resources, before the provisioner owned them.
func legacyFacts(previous *config.Deployed) map[string]bool {
	out := map[string]bool{}
	if previous == nil {
		return out
	}
	for id, t := range previous.Tenants {
		if t.Isolation == config.Pool && t.Facts != data.FactsByProvisioner {
			out[id] = true
		}
	}
	return out
}

// facts are the values of the references a service's environment may use,
// but the services' own URLs, which compute knows.
func facts(cfg *config.Stack, d *data.Data) map[string]pulumi.StringInput {
	f := map[string]pulumi.StringInput{
		// A cluster client is given one seed, host:port, and finds the shards.
		config.RefCacheEndpoint: pulumi.Sprintf("%s:%d", d.CacheEndpoint, data.RedisPort),
		config.RefCacheHost:     d.CacheEndpoint,
		config.RefCachePort:     pulumi.String(fmt.Sprint(data.RedisPort)),
		config.RefDatabaseHost:  d.DatabaseAddress,
		config.RefDatabasePort:  pulumi.String(fmt.Sprint(data.PostgresPort)),
		config.RefDatabaseName:  pulumi.String(data.SharedDatabaseName),
		config.RefRegion:        pulumi.String(cfg.Region),
		config.RefStack:         pulumi.String(cfg.Name),
	}
	for name, b := range d.Buckets {
		f["buckets."+name] = b.Name
	}
	return f
}

func loginSecrets(d *data.Data) map[string]pulumi.StringInput {
	out := map[string]pulumi.StringInput{}
	for name, arn := range d.ServiceLoginSecretArns {
		out[name] = arn
	}
	return out
}

func buckets(d *data.Data) map[string]compute.BucketInputs {
	out := map[string]compute.BucketInputs{}
	for name, b := range d.Buckets {
		out[name] = compute.BucketInputs{Name: b.Name, Arn: b.Arn}
	}
	return out
}

// edge points the domain and the services' hosts at the load balancer, and
// builds the static assets' CloudFront, whose certificate and web ACL live
// in us-east-1.
func (p *Platform) edge(ctx *pulumi.Context, name string, cfg *config.Stack, children []pulumi.ResourceOption) error {
	if cfg.Domain.Zone == "" {
		return nil
	}
	names := append([]string{cfg.Domain.Name}, serviceHosts(cfg)...)
	if err := edge.NewAliasRecords(ctx, name, p.Domain.ZoneId, names, edge.AliasTarget{
		DnsName: p.Compute.LoadBalancerDnsName, ZoneId: p.Compute.LoadBalancerZoneId, EvaluateHealth: true,
	}, pulumi.Parent(p.Domain)); err != nil {
		return fmt.Errorf("platform %s: %w", name, err)
	}
	assets := cfg.StaticAssets
	if assets.Host == "" {
		return nil
	}
	global := p.Provider
	if cfg.Region != GlobalRegion {
		var err error
		if global, err = NewProvider(ctx, name+"-"+GlobalRegion, cfg, GlobalRegion, pulumi.Parent(p)); err != nil {
			return fmt.Errorf("platform %s: %w", name, err)
		}
	}
	var err error
	p.StaticAssets, err = edge.NewStaticAssets(ctx, name+"-static", &edge.StaticAssetsArgs{
		Host: assets.Host, PriceClass: assets.PriceClass, AccessLogs: assets.AccessLogs,
		ZoneId: p.Domain.ZoneId, Global: global,
		WAF: cfg.LoadBalancer.WAF, WAFRateLimit: cfg.LoadBalancer.WAFRateLimit,
		LogRetentionDays: cfg.Logs.RetentionDays, Protect: cfg.DataProtection.Protect,
		Description: cfg.Project + "-" + cfg.Name,
	}, children...)
	return err
}

// GlobalRegion is where CloudFront takes certificates and web ACLs from.
const GlobalRegion = "us-east-1"

// serviceHosts are the hosts services route, each once, in stack-file order.
func serviceHosts(cfg *config.Stack) []string {
	var hosts []string
	seen := map[string]bool{}
	for _, s := range cfg.Services {
		for _, h := range s.Hosts {
			if !seen[h] && h != cfg.Domain.Name {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	return hosts
}

func observabilityArgs(cfg *config.Stack, p *Platform) *observability.ObservabilityArgs {
	args := &observability.ObservabilityArgs{
		Project:               cfg.Project,
		Environment:           cfg.Name,
		Region:                cfg.Region,
		KeyArn:                p.Key.Arn,
		Emails:                cfg.Alerts.Emails,
		Alarms:                cfg.Alarms,
		ClusterName:           p.Compute.ClusterName,
		LoadBalancerArnSuffix: p.Compute.LoadBalancerArnSuffix,
		CacheNodes:            p.Data.CacheNodes,
		ServerlessCache:       serverlessWatch(cfg.Cache, p.Data.ServerlessCache),
	}
	for _, s := range p.Compute.Services {
		args.Services = append(args.Services, observability.Service{
			Name: s.Name, Routed: s.Routed, TargetGroupArnSuffix: s.TargetGroupArnSuffix,
		})
	}
	for _, db := range p.Data.Databases {
		args.Databases = append(args.Databases, observability.Database{
			Identifier: db.Identifier, AllocatedStorage: db.AllocatedStorage, Tags: db.Tags,
		})
	}
	if p.Onboarding != nil {
		args.Onboarding = &observability.Onboarding{
			WorkerFunctionName: p.Onboarding.WorkerFunctionName, DeadLetterQueueName: p.Onboarding.DeadLetterQueueName,
		}
	}
	return args
}

// PathPrefix is the environment's path for log groups, SSM parameters and
// secrets: /<project>/<stack>.
func PathPrefix(cfg *config.Stack) string {
	return "/" + cfg.Project + "/" + cfg.Name
}

// serviceGroups hands compute the services' own security groups.
func serviceGroups(n *network.Network) map[string]pulumi.StringInput {
	groups := map[string]pulumi.StringInput{}
	for name, id := range n.ServiceSecurityGroupIds {
		groups[name] = id
	}
	return groups
}

func networkArgs(cfg *config.Stack) *network.NetworkArgs {
	n := cfg.Network
	args := &network.NetworkArgs{
		Region:            cfg.Region,
		CidrBlock:         n.CIDR,
		AvailabilityZones: n.AvailabilityZones,
		Subnets:           n.Subnets,
		NatGateways:       natStrategies[n.NatGateways],
		NatInstance:       n.NatGateways == config.NatInstance,
		FlowLogs:          n.FlowLogs,
		LogRetentionDays:  cfg.Logs.RetentionDays,
		PathPrefix:        PathPrefix(cfg),
	}
	args.LoadBalancerCidrs = cfg.LoadBalancer.AllowedCidrs
	if n.InterfaceEndpoints {
		args.InterfaceEndpoints = network.InterfaceEndpointServices
	}
	// Who may reach whom is what the stack file declares, read through
	// config's one implementation of the service graph.
	for _, s := range cfg.Services {
		w := network.Workload{
			Name: s.Name, Routed: s.Routed(), Callers: config.Callers(cfg.Services, s.Name),
			Database: s.UsesDatabase(), Cache: s.UsesCache(),
		}
		if !s.Scheduled() {
			w.Port = s.Port
		}
		args.Workloads = append(args.Workloads, w)
	}
	return args
}

// Outputs the next deployment reads back to check plan changes.
const (
	OutputTenants          = "tenants"
	OutputCacheClusterMode = "cacheClusterMode"
	OutputCacheMode        = "cacheMode"
)

// Outputs are the stack outputs: what operators and other stacks read.
func (p *Platform) Outputs() map[string]pulumi.Input {
	outputs := map[string]pulumi.Input{
		"url":                         p.Compute.URL,
		OutputTenants:                 p.Data.Tenants,
		OutputCacheClusterMode:        pulumi.Bool(p.stack.Cache.ClusterMode || p.stack.Cache.IsServerless()),
		OutputCacheMode:               pulumi.String(p.stack.Cache.Mode),
		"keyArn":                      p.Key.Arn,
		"databaseAddress":             p.Data.DatabaseAddress,
		"databasePools":               p.Data.DatabasePools,
		"databaseSecretArn":           p.Data.DatabaseSecretArn,
		"cacheEndpoint":               p.Data.CacheEndpoint,
		"cacheAuthSecretArn":          p.Data.CacheAuthSecretArn,
		"environment":                 pulumi.String(p.stack.Name),
		"sizing":                      pulumi.String(p.stack.Sizing),
		"region":                      pulumi.String(p.stack.Region),
		"vpcId":                       p.Network.VpcId,
		"availabilityZones":           p.Network.AvailabilityZones,
		"publicSubnetIds":             p.Network.PublicSubnetIds,
		"privateSubnetIds":            p.Network.PrivateSubnetIds,
		"isolatedSubnetIds":           p.Network.IsolatedSubnetIds,
		"loadBalancerSecurityGroupId": p.Network.LoadBalancerSecurityGroupId,
		"serviceSecurityGroupIds":     pulumi.ToStringMapOutput(p.Network.ServiceSecurityGroupIds),
		"databaseSecurityGroupId":     p.Network.DatabaseSecurityGroupId,
		"cacheSecurityGroupId":        p.Network.CacheSecurityGroupId,
		"databaseSubnetGroupName":     p.Network.DatabaseSubnetGroupName,
		"cacheSubnetGroupName":        p.Network.CacheSubnetGroupName,
	}
	if p.StaticAssets != nil {
		// What CI needs to upload assets and invalidate the cache.
		outputs["staticAssetsBucket"] = p.StaticAssets.BucketName
		outputs["staticAssetsDistributionId"] = p.StaticAssets.DistributionId
	}
	if p.stack.Domain.CreateZone {
		outputs["nameServers"] = p.Domain.NameServers
	}
	if p.Onboarding != nil {
		// Where callers send requests, and where the tenants command
		// reads the run-time tenants.
		outputs["onboardingUrl"] = p.Onboarding.URL
		outputs["tenantRegistry"] = p.Onboarding.TableName
	}
	if p.stack.Schedule.On() {
		outputs[OutputWakeUp] = wakeUpCommand(p.stack.Region, p.Network.NatInstanceId, p.Data.Databases, p.Compute.Wake, p.Compute.SleepingRules)
	}
	return outputs
}

// serverlessWatch is what observability watches of a serverless cache: its
// name and the usage limits its alarms measure against; nil with nodes.
func serverlessWatch(c config.Cache, name string) *observability.ServerlessCache {
	if name == "" {
		return nil
	}
	return &observability.ServerlessCache{
		Name: name, MaxDataStorageGB: c.Serverless.MaxDataStorageGB, MaxECPUPerSecond: c.Serverless.MaxECPUPerSecond,
	}
}
