// Package compute owns what runs the workloads: an ECR repository per
// service, the ECS cluster with Fargate and Fargate Spot, each service's
// task definition, roles, service and autoscaling, the load balancer with
// its routing rules and WAF, Cloud Map names for internal services, and
// EventBridge schedules for scheduled tasks.
package compute

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/servicediscovery"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
)

// NetworkInputs is what compute needs from the network.
type NetworkInputs struct {
	VpcId                       pulumi.StringInput
	PublicSubnetIds             pulumi.StringArrayInput
	PrivateSubnetIds            pulumi.StringArrayInput
	LoadBalancerSecurityGroupId pulumi.StringInput
	// ServiceSecurityGroupIds are the services' own groups, by name: every
	// service and scheduled task must have one.
	ServiceSecurityGroupIds map[string]pulumi.StringInput
}

// DataInputs is what compute needs from the data layer: the secrets a
// service's references name, and the tenants' secrets a service may be
// granted. No master secret is among them: those are the provisioner's.
type DataInputs struct {
	CacheAuthSecretArn pulumi.StringInput
	TenantSecretsArn   string // ARN pattern of every tenant's credentials secret
	// ServiceLoginSecretArns maps each service that uses the database to
	// its own login's secret.
	ServiceLoginSecretArns map[string]pulumi.StringInput
	// TenantSecretArns maps every stack-file tenant, pool and silo, to its
	// credentials' secret, known once its database exists: what a service's
	// migrations run for.
	TenantSecretArns pulumi.StringMapInput
	// TenantsProvisioned made the tenants' logins: migrations wait for them.
	TenantsProvisioned []pulumi.Resource
}

// ComputeArgs configures Compute.
type ComputeArgs struct {
	Project     string
	Environment string
	Region      string
	// PathPrefix is the environment's path, /<project>/<stack>: log groups
	// and the SSM parameters services may read live under it.
	PathPrefix string
	KeyArn     pulumi.StringInput
	Network    NetworkInputs
	Data       DataInputs

	Services          []config.Service
	DefaultCapacity   string
	ContainerInsights bool
	LoadBalancer      config.LoadBalancer
	// Certificate is the HTTPS listener's certificate; nil: HTTP only.
	Certificate      pulumi.StringInput
	LogRetentionDays int
	Protect          bool
	// WaitForSteadyState makes `pulumi up` fail when ECS rolls a
	// deployment back.
	WaitForSteadyState bool
	// PublicHost is the name routed services are reached at (the domain);
	// empty: the load balancer's DNS name.
	PublicHost string
	// Facts are the values of the ${...} references a service's
	// environment may use, but services.<name>.url, which compute knows.
	Facts map[string]pulumi.StringInput
	// Buckets are the stack's buckets, by stack-file name.
	Buckets map[string]BucketInputs
	// Schedule, when on, scales every long-running service to zero outside
	// its awake windows, and disables every scheduled task's rule (the
	// task keeps its own schedule while awake).
	Schedule config.Schedule
	// ScheduleGroup is the stack's EventBridge Scheduler group; set with
	// Schedule.
	ScheduleGroup pulumi.StringInput
	// MigrationCode is the migrations runner's deployment package (the
	// provisioner's binary), asked for only when a service has a migrate
	// command.
	MigrationCode func() (pulumi.Archive, error)
	// RegistryTable is the onboarding API's registry, whose tenants the
	// migrations runner migrates too; empty without the API.
	RegistryTable string
}

// BucketInputs is a bucket services may be granted.
type BucketInputs struct {
	Name pulumi.StringInput
	Arn  pulumi.StringInput
}

// ServiceRefs names what observability watches for one service.
type ServiceRefs struct {
	Name   string
	Routed bool
	// TargetGroupArnSuffix is set for routed services.
	TargetGroupArnSuffix pulumi.StringOutput
}

// Compute is the environment's workloads.
type Compute struct {
	pulumi.ResourceState

	ClusterName           pulumi.StringOutput `pulumi:"clusterName"`
	LoadBalancerDnsName   pulumi.StringOutput `pulumi:"loadBalancerDnsName"`
	LoadBalancerArnSuffix pulumi.StringOutput `pulumi:"loadBalancerArnSuffix"`
	// LoadBalancerZoneId is the load balancer's hosted zone, for aliases.
	LoadBalancerZoneId pulumi.StringOutput `pulumi:"loadBalancerZoneId"`
	// URL is where routed services answer: the public host when there is
	// one, else the load balancer's name; https with a certificate.
	URL pulumi.StringOutput `pulumi:"url"`
	// Repositories maps service name to repository URL.
	Repositories pulumi.StringMapOutput `pulumi:"repositories"`
	// Services lists the long-running services, in stack-file order.
	Services []ServiceRefs
	// TaskRoleArns maps every service, scheduled or not, to its task role:
	// what the onboarding API's callers name as service:<name>.
	TaskRoleArns map[string]pulumi.StringOutput
	// MigrationSpecs are the migrating services' specs (internal/migrations
	// .Spec), in stack-file order: what the onboarding worker runs for a
	// tenant it makes.
	MigrationSpecs []pulumi.Output
	// Wake lists, when the stack sleeps, each service's scalable target and
	// the bounds its wake-up actions restore, in stack-file order.
	Wake []WakeTarget
	// SleepingRules are, when the stack sleeps, the names of the scheduled
	// tasks' rules its schedule disables, in stack-file order.
	SleepingRules []pulumi.StringOutput

	Cluster           *ecs.Cluster
	execLogGroup      *cloudwatch.LogGroup
	args              *ComputeArgs
	account           string
	capacityProviders *ecs.ClusterCapacityProviders
	lb                *loadBalancer
	namespace         *servicediscovery.PrivateDnsNamespace
	platformSecrets   []containerSecret
	generated         map[string]*secretsmanager.Secret
	facts             map[string]pulumi.StringInput
	migrationRunner   *migrationRunner
	migrationTargets  []migrationTarget
}

// NewCompute builds the cluster, the load balancer and every service.
func NewCompute(ctx *pulumi.Context, name string, args *ComputeArgs, opts ...pulumi.ResourceOption) (*Compute, error) {
	if args == nil {
		return nil, fmt.Errorf("compute %s: args are required", name)
	}
	c := &Compute{args: args, generated: map[string]*secretsmanager.Secret{}, facts: map[string]pulumi.StringInput{}}
	for ref, value := range args.Facts {
		c.facts[ref] = value
	}
	if err := ctx.RegisterComponentResource("saas:compute:Compute", name, c, opts...); err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("compute %s: reading the account id: %w", name, err)
	}
	c.account = caller.AccountId
	c.platformSecrets = c.containerSecrets()

	if c.Cluster, c.capacityProviders, c.execLogGroup, err = newCluster(ctx, c, name, args); err != nil {
		return nil, fmt.Errorf("compute %s: cluster: %w", name, err)
	}

	targetGroups := map[string]*lb.TargetGroup{}
	var defaultTarget pulumi.StringInput
	longRunning := false
	for _, s := range args.Services {
		longRunning = longRunning || !s.Scheduled()
		switch {
		case s.Scheduled():
		case s.Routed():
			tg, err := c.targetGroup(ctx, s)
			if err != nil {
				return nil, fmt.Errorf("compute %s: %s target group: %w", name, s.Name, err)
			}
			targetGroups[s.Name] = tg
			for _, p := range s.Paths {
				// A catch-all for one host is a rule, not the default.
				if p == "/*" && len(s.Hosts) == 0 && defaultTarget == nil {
					defaultTarget = tg.Arn
				}
			}
		}
	}
	if c.lb, err = newLoadBalancer(ctx, c, name, args, defaultTarget); err != nil {
		return nil, fmt.Errorf("compute %s: load balancer: %w", name, err)
	}
	// Every long-running service, routed too, gets a Cloud Map name, so
	// services call each other inside the VPC without the load balancer.
	if longRunning {
		if c.namespace, err = servicediscovery.NewPrivateDnsNamespace(ctx, name, &servicediscovery.PrivateDnsNamespaceArgs{
			Name:        pulumi.String(Namespace(args.Project, args.Environment)),
			Description: pulumi.String("Internal services of " + args.Project + "-" + args.Environment),
			Vpc:         args.Network.VpcId,
		}, pulumi.Parent(c)); err != nil {
			return nil, fmt.Errorf("compute %s: namespace: %w", name, err)
		}
	}
	c.serviceURLs()

	repositories := pulumi.StringMap{}
	for _, s := range args.Services {
		url, refs, err := c.workload(ctx, s, targetGroups[s.Name])
		if err != nil {
			return nil, fmt.Errorf("compute %s: service %s: %w", name, s.Name, err)
		}
		repositories[s.Name] = url
		if refs != nil {
			c.Services = append(c.Services, *refs)
		}
	}

	c.ClusterName = c.Cluster.Name
	c.LoadBalancerDnsName = c.lb.alb.DnsName
	c.LoadBalancerArnSuffix = c.lb.alb.ArnSuffix
	c.LoadBalancerZoneId = c.lb.alb.ZoneId
	c.Repositories = repositories.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterName":         c.ClusterName,
		"loadBalancerDnsName": c.LoadBalancerDnsName,
		"repositories":        c.Repositories,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// workload builds one stack-file service: a long-running service, or a
// scheduled task.
func (c *Compute) workload(ctx *pulumi.Context, s config.Service, tg *lb.TargetGroup) (pulumi.StringOutput, *ServiceRefs, error) {
	args := c.args
	repo, err := newRepository(ctx, c, s.Name, args)
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	logGroup, err := cloudwatch.NewLogGroup(ctx, s.Name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.PathPrefix + "/services/" + s.Name),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.KeyArn,
	}, pulumi.Parent(c))
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	var agentConfig pulumi.StringInput
	if s.Metrics == config.MetricsStatsd {
		if agentConfig, err = c.agentConfiguration(ctx, s); err != nil {
			return pulumi.StringOutput{}, nil, err
		}
	}
	injected, err := c.injected(ctx, s)
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	execRole, taskRole, migrationRole, err := c.roles(ctx, s, injected, repo, logGroup, agentConfig)
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	if c.TaskRoleArns == nil {
		c.TaskRoleArns = map[string]pulumi.StringOutput{}
	}
	c.TaskRoleArns[s.Name] = taskRole.Arn
	var image pulumi.StringInput = pulumi.Sprintf("%s:%s", repo.RepositoryUrl, s.ImageTag)
	if s.Image != "" {
		image = pulumi.String(s.Image)
	}
	task, err := c.taskDefinition(ctx, s, image, injected, logGroup, execRole, taskRole, agentConfig)
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	migrated, err := c.migrations(ctx, s, task, execRole, migrationRole)
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	if s.Scheduled() {
		return repo.RepositoryUrl, nil, c.schedule(ctx, s, task, execRole, taskRole, migrated)
	}

	var rule *lb.ListenerRule
	if tg != nil {
		if rule, err = c.rule(ctx, s, tg); err != nil {
			return pulumi.StringOutput{}, nil, err
		}
	}
	registry, err := c.registry(ctx, s)
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	svc, err := c.service(ctx, s, task, tg, rule, registry, migrated)
	if err != nil {
		return pulumi.StringOutput{}, nil, err
	}
	if s.Autoscaled() || c.args.Schedule.On() {
		target, err := c.scalableTarget(ctx, s, svc)
		if err != nil {
			return pulumi.StringOutput{}, nil, err
		}
		if s.Autoscaled() {
			if err := c.autoscaling(ctx, s, target, tg); err != nil {
				return pulumi.StringOutput{}, nil, err
			}
		}
		if err := c.sleep(ctx, s, target); err != nil {
			return pulumi.StringOutput{}, nil, err
		}
	}
	refs := &ServiceRefs{Name: s.Name, Routed: tg != nil}
	if tg != nil {
		refs.TargetGroupArnSuffix = tg.ArnSuffix
	}
	return repo.RepositoryUrl, refs, nil
}

// platformParameters are the database and Redis facts every container
// gets from SSM, by variable name and path under the environment's prefix.
var platformParameters = []struct{ name, path string }{
	{"DATABASE_HOST", "/database/host"},
	{"DATABASE_PORT", "/database/port"},
	{"REDIS_HOST", "/cache/endpoint"},
	{"REDIS_PORT", "/cache/port"},
}

// containerSecrets are the database and Redis facts every container gets,
// injected by ECS from SSM at start: where the stores are, not how to log
// in. Credentials reach only the services that name them in their secrets
// (${database.url}, ${database.secret}, ${cache.authToken}).
func (c *Compute) containerSecrets() []containerSecret {
	var secrets []containerSecret
	for _, p := range platformParameters {
		arn := pulumi.String(c.parameterArn(p.path))
		secrets = append(secrets, containerSecret{name: p.name, valueFrom: arn, readable: arn, parameter: true})
	}
	return secrets
}

// parameterArn is the ARN of a parameter under the environment's prefix.
func (c *Compute) parameterArn(path string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s%s", c.args.Region, c.account, c.args.PathPrefix, path)
}

// AgentConfig is the CloudWatch agent's configuration: statsd on its
// standard port, published to namespace every minute.
func AgentConfig(namespace string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"agent": map[string]any{"omit_hostname": true},
		"metrics": map[string]any{
			"namespace": namespace,
			"metrics_collected": map[string]any{"statsd": map[string]any{
				"service_address":              fmt.Sprintf(":%d", statsdPort),
				"metrics_collection_interval":  60,
				"metrics_aggregation_interval": 60,
			}},
		},
	})
	return string(b), err
}

// serviceURLs adds the services' addresses to the facts.
// services.<name>.url is the private address of every long-running service,
// routed or not: its Cloud Map name, which resolves inside the VPC to the
// tasks' own addresses, so a call between services never leaves the VPC
// (no NAT gateway, load balancer or WAF on the way) and the callee's
// security group sees the caller's. services.<name>.publicUrl is where a
// routed service answers from outside: its first host, else the stack's URL.
func (c *Compute) serviceURLs() {
	scheme := "http"
	if c.args.Certificate != nil {
		scheme = "https"
	}
	var host pulumi.StringInput = c.lb.alb.DnsName
	if c.args.PublicHost != "" {
		host = pulumi.String(c.args.PublicHost)
	}
	c.URL = pulumi.Sprintf("%s://%s", scheme, host)
	for _, s := range c.args.Services {
		if s.Scheduled() {
			continue
		}
		c.facts["services."+s.Name+".url"] = pulumi.String(PrivateURL(c.args.Project, c.args.Environment, s))
		switch {
		case len(s.Hosts) > 0:
			c.facts["services."+s.Name+".publicUrl"] = pulumi.String(scheme + "://" + s.Hosts[0])
		case s.Routed():
			c.facts["services."+s.Name+".publicUrl"] = c.URL
		}
	}
}

// PrivateURL is a long-running service's address inside the VPC:
// http://<service>.<namespace>:<port>.
func PrivateURL(project, environment string, s config.Service) string {
	return fmt.Sprintf("http://%s.%s:%d", s.Name, Namespace(project, environment), s.Port)
}

// agentConfiguration keeps the CloudWatch agent's statsd configuration in
// SSM, where the agent reads it at start: metrics go to the environment's
// namespace, tagged with the service.
func (c *Compute) agentConfiguration(ctx *pulumi.Context, s config.Service) (pulumi.StringInput, error) {
	cfg, err := AgentConfig(MetricsNamespace(c.args.Project, c.args.Environment))
	if err != nil {
		return nil, err
	}
	param, err := ssm.NewParameter(ctx, s.Name+"-cloudwatch-agent", &ssm.ParameterArgs{
		Name:        pulumi.String(c.args.PathPrefix + "/services/" + s.Name + "/cloudwatch-agent"),
		Description: pulumi.String("CloudWatch agent configuration of " + s.Name),
		Type:        pulumi.String("SecureString"),
		KeyId:       c.args.KeyArn,
		Value:       pulumi.String(cfg),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	return param.Arn, nil
}

// Namespace is the private DNS zone of internal services:
// <service>.<stack>.<project>.internal.
func Namespace(project, environment string) string {
	return strings.ToLower(environment + "." + project + ".internal")
}
