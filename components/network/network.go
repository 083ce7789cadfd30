// Package network owns the environment's network: the VPC and its three
// subnet tiers, NAT, VPC endpoints, the security groups that form the
// internet -> load balancer -> services -> data chain, flow logs, and the
// subnet groups the data stores are placed in.
package network

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	awsx "github.com/pulumi/pulumi-awsx/sdk/v2/go/awsx/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// Ports of the data stores; fixed so that the security groups and the
// stores' own settings cannot drift apart.
const (
	PostgresPort = 5432
	RedisPort    = 6379
)

// InterfaceEndpointServices are the AWS services that tasks in private
// subnets need without going through NAT: pulling images, writing logs,
// reading parameters and secrets.
var InterfaceEndpointServices = []string{"ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager"}

// NetworkArgs configures a Network.
type NetworkArgs struct {
	Region            string
	CidrBlock         string
	AvailabilityZones int                 // how many of the region's zones to use
	Subnets           config.SubnetLayout // prefix lengths for awsx's Auto strategy
	NatGateways       awsx.NatGatewayStrategy
	// NatInstance runs NAT on one small instance instead (NatGateways must
	// then be None): the private route tables point at it.
	NatInstance bool
	// InterfaceEndpoints lists services (e.g. "ecr.api") that get an
	// interface endpoint; empty means traffic to AWS APIs leaves through NAT.
	InterfaceEndpoints []string
	FlowLogs           bool
	LogRetentionDays   int
	// PathPrefix is the environment's path, e.g. /saas-platform/dev: log
	// groups are named under it.
	PathPrefix string
	// Workloads are the stack's services and scheduled tasks, each with
	// its own security group, and who may reach whom.
	Workloads []Workload
	// LoadBalancerCidrs may reach the load balancer on 80 and 443; empty:
	// the whole internet.
	LoadBalancerCidrs []string
	// LogsKmsKeyArn encrypts the flow-log group; empty uses CloudWatch's own key.
	LogsKmsKeyArn pulumi.StringInput
	// Provider, when set, is handed to the awsx VPC explicitly: a remote
	// component is sent only the providers named in its own options, and
	// its children must get the provider that carries the default tags.
	Provider *aws.Provider
}

// Network is the environment's VPC and everything that decides who may talk
// to whom inside it.
type Network struct {
	pulumi.ResourceState

	VpcId             pulumi.StringOutput      `pulumi:"vpcId"`
	CidrBlock         pulumi.StringOutput      `pulumi:"cidrBlock"`
	AvailabilityZones pulumi.StringArrayOutput `pulumi:"availabilityZones"`
	PublicSubnetIds   pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateSubnetIds  pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	IsolatedSubnetIds pulumi.StringArrayOutput `pulumi:"isolatedSubnetIds"`

	LoadBalancerSecurityGroupId pulumi.StringOutput `pulumi:"loadBalancerSecurityGroupId"`
	// ServiceSecurityGroupIds are the workloads' own groups, by name.
	ServiceSecurityGroupIds map[string]pulumi.StringOutput
	DatabaseSecurityGroupId pulumi.StringOutput `pulumi:"databaseSecurityGroupId"`
	CacheSecurityGroupId    pulumi.StringOutput `pulumi:"cacheSecurityGroupId"`
	EndpointSecurityGroupId pulumi.StringOutput `pulumi:"endpointSecurityGroupId"`
	// ProvisionerSecurityGroupId is for the function that creates pool
	// tenants' databases: PostgreSQL and HTTPS out, nothing in.
	ProvisionerSecurityGroupId pulumi.StringOutput `pulumi:"provisionerSecurityGroupId"`
	// NatSecurityGroupId and NatInstanceId are set with a NAT instance.
	NatSecurityGroupId pulumi.StringOutput `pulumi:"natSecurityGroupId"`
	NatInstanceId      pulumi.StringOutput `pulumi:"natInstanceId"`

	DatabaseSubnetGroupName pulumi.StringOutput `pulumi:"databaseSubnetGroupName"`
	CacheSubnetGroupName    pulumi.StringOutput `pulumi:"cacheSubnetGroupName"`

	// members are the resources registered under the network, recorded as
	// each is registered (see Members).
	members   []pulumi.Resource
	membersMu sync.Mutex
}

// Members returns every resource registered under the network, complete
// once NewNetwork has returned: what depends on the whole network depends
// on these. Depending on the component instead would not do: the Go SDK
// adds a child to its parent's children asynchronously, so a dependent
// registered right after NewNetwork could miss the last ones (and two
// plans of one stack file would differ).
func (n *Network) Members() []pulumi.Resource {
	n.membersMu.Lock()
	defer n.membersMu.Unlock()
	return append([]pulumi.Resource(nil), n.members...)
}

// record is a transformation on the network that notes each resource
// registered under it; transformations run as a resource is registered.
func (n *Network) record(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
	n.membersMu.Lock()
	defer n.membersMu.Unlock()
	n.members = append(n.members, args.Resource)
	return nil
}

// NewNetwork builds the VPC, its endpoints, security groups, flow logs and
// subnet groups.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("network %s: args are required", name)
	}
	n := &Network{}
	opts = append(opts, pulumi.Transformations([]pulumi.ResourceTransformation{n.record}))
	if err := ctx.RegisterComponentResource("saas:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	autoStrategy := awsx.SubnetAllocationStrategyAuto
	zones, err := availabilityZones(ctx, n, args)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}

	vpc, err := awsx.NewVpc(ctx, name, &awsx.VpcArgs{
		CidrBlock:                pulumi.StringRef(args.CidrBlock),
		AvailabilityZoneNames:    zones,
		AvailabilityZoneCidrMask: pulumi.IntRef(args.Subnets.AvailabilityZoneMask),
		// Auto with explicit masks: the layout is ours and stable. The order
		// of these specs is part of the layout: append, never reorder.
		SubnetStrategy: &autoStrategy,
		SubnetSpecs: []awsx.SubnetSpecArgs{
			{Type: awsx.SubnetTypePrivate, CidrMask: pulumi.IntRef(args.Subnets.PrivateMask)},
			{Type: awsx.SubnetTypePublic, CidrMask: pulumi.IntRef(args.Subnets.PublicMask)},
			{Type: awsx.SubnetTypeIsolated, CidrMask: pulumi.IntRef(args.Subnets.IsolatedMask)},
		},
		NatGateways:        &awsx.NatGatewayConfigurationArgs{Strategy: args.NatGateways},
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
	}, vpcOptions(n, args)...)
	if err != nil {
		return nil, fmt.Errorf("network %s: vpc: %w", name, err)
	}
	n.VpcId = vpc.VpcId
	n.CidrBlock = pulumi.String(args.CidrBlock).ToStringOutput()
	n.AvailabilityZones = pulumi.ToStringArray(zones).ToStringArrayOutput()
	n.PublicSubnetIds = vpc.PublicSubnetIds
	n.PrivateSubnetIds = vpc.PrivateSubnetIds
	n.IsolatedSubnetIds = vpc.IsolatedSubnetIds

	if err := n.securityGroups(ctx, name, args); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	if err := n.endpoints(ctx, name, args); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	if args.NatInstance {
		if args.NatGateways != awsx.NatGatewayStrategyNone {
			return nil, fmt.Errorf("network %s: a NAT instance replaces awsx's NAT gateways, whose strategy must be None, not %s", name, args.NatGateways)
		}
		if err := n.natInstance(ctx, name, args); err != nil {
			return nil, fmt.Errorf("network %s: %w", name, err)
		}
	}
	if args.FlowLogs {
		if err := n.flowLogs(ctx, name, args); err != nil {
			return nil, fmt.Errorf("network %s: flow logs: %w", name, err)
		}
	}
	if err := n.subnetGroups(ctx, name); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}

	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":                       n.VpcId,
		"availabilityZones":           n.AvailabilityZones,
		"publicSubnetIds":             n.PublicSubnetIds,
		"privateSubnetIds":            n.PrivateSubnetIds,
		"isolatedSubnetIds":           n.IsolatedSubnetIds,
		"loadBalancerSecurityGroupId": n.LoadBalancerSecurityGroupId,
		"serviceSecurityGroupIds":     n.serviceGroups(),
		"databaseSecurityGroupId":     n.DatabaseSecurityGroupId,
		"cacheSecurityGroupId":        n.CacheSecurityGroupId,
		"provisionerSecurityGroupId":  n.ProvisionerSecurityGroupId,
		"databaseSubnetGroupName":     n.DatabaseSubnetGroupName,
		"cacheSubnetGroupName":        n.CacheSubnetGroupName,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// serviceGroups are the workloads' groups as one output.
func (n *Network) serviceGroups() pulumi.StringMapOutput {
	groups := pulumi.StringMap{}
	for name, id := range n.ServiceSecurityGroupIds {
		groups[name] = id
	}
	return groups.ToStringMapOutput()
}

func vpcOptions(n *Network, args *NetworkArgs) []pulumi.ResourceOption {
	opts := []pulumi.ResourceOption{pulumi.Parent(n)}
	if args.Provider != nil {
		opts = append(opts, pulumi.Providers(args.Provider))
	}
	return opts
}

// availabilityZones picks the region's first zones by name. Naming them
// (rather than letting awsx count) keeps the choice visible in the preview
// and fails clearly when the region has too few.
func availabilityZones(ctx *pulumi.Context, n *Network, args *NetworkArgs) ([]string, error) {
	result, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{
			{Name: "opt-in-status", Values: []string{"opt-in-not-required"}},
		},
	}, pulumi.Parent(n))
	if err != nil {
		return nil, fmt.Errorf("listing availability zones: %w", err)
	}
	names := slices.Clone(result.Names)
	sort.Strings(names)
	if len(names) < args.AvailabilityZones {
		return nil, fmt.Errorf("region %s has %d availability zones (%v), the stack asks for %d",
			args.Region, len(names), names, args.AvailabilityZones)
	}
	return names[:args.AvailabilityZones], nil
}

// endpoints keeps AWS API traffic inside the VPC: an S3 gateway endpoint
// always (it is free and carries ECR image layers), interface endpoints when
// asked for. awsx's own endpoint specs are not wired to its route tables, so
// the endpoints are made here.
func (n *Network) endpoints(ctx *pulumi.Context, name string, args *NetworkArgs) error {
	parent := pulumi.Parent(n)
	routeTables := ec2.GetRouteTablesOutput(ctx, ec2.GetRouteTablesOutputArgs{VpcId: n.VpcId}, pulumi.Parent(n))
	if _, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           n.VpcId,
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", args.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routeTables.Ids(),
		Tags:            pulumi.StringMap{"Name": pulumi.String(name + "-s3")},
	}, parent); err != nil {
		return fmt.Errorf("s3 endpoint: %w", err)
	}
	for _, service := range args.InterfaceEndpoints {
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-"+service, &ec2.VpcEndpointArgs{
			VpcId:             n.VpcId,
			ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", args.Region, service),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         n.PrivateSubnetIds,
			SecurityGroupIds:  pulumi.StringArray{n.EndpointSecurityGroupId},
			Tags:              pulumi.StringMap{"Name": pulumi.String(name + "-" + service)},
		}, parent); err != nil {
			return fmt.Errorf("%s endpoint: %w", service, err)
		}
	}
	return nil
}

// flowLogs records every accepted and rejected flow to CloudWatch Logs,
// through a role only the VPC Flow Logs service of this account can assume.
func (n *Network) flowLogs(ctx *pulumi.Context, name string, args *NetworkArgs) error {
	parent := pulumi.Parent(n)
	caller, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(n))
	if err != nil {
		return fmt.Errorf("reading the account id: %w", err)
	}
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.PathPrefix + "/vpc/flow-logs"),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.LogsKmsKeyArn,
	}, parent)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		Description:      pulumi.String("Lets VPC Flow Logs write " + args.PathPrefix + "/vpc/flow-logs"),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("vpc-flow-logs.amazonaws.com", caller.AccountId).String()),
	}, parent)
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			arn := v[0].(string)
			return awspolicy.New(awspolicy.Statement{
				Effect:   "Allow",
				Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
				Resource: []string{arn, arn + ":*"},
			})
		}, logGroup.Arn),
	}, parent); err != nil {
		return err
	}
	_, err = ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  n.VpcId,
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         logGroup.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent)
	return err
}

// subnetGroups place the data stores in the isolated subnets, which have no
// route to or from the internet.
func (n *Network) subnetGroups(ctx *pulumi.Context, name string) error {
	parent := pulumi.Parent(n)
	db, err := rds.NewSubnetGroup(ctx, name+"-db", &rds.SubnetGroupArgs{
		Description: pulumi.String("Isolated subnets for PostgreSQL"),
		SubnetIds:   n.IsolatedSubnetIds,
	}, parent)
	if err != nil {
		return fmt.Errorf("database subnet group: %w", err)
	}
	cache, err := elasticache.NewSubnetGroup(ctx, name+"-cache", &elasticache.SubnetGroupArgs{
		Description: pulumi.String("Isolated subnets for Redis"),
		SubnetIds:   n.IsolatedSubnetIds,
	}, parent)
	if err != nil {
		return fmt.Errorf("cache subnet group: %w", err)
	}
	n.DatabaseSubnetGroupName = db.Name
	n.CacheSubnetGroupName = cache.Name
	return nil
}
