package network_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"testing"

	awsx "github.com/pulumi/pulumi-awsx/sdk/v2/go/awsx/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/network"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	vpcType      = "awsx:ec2:Vpc"
	endpointType = "aws:ec2/vpcEndpoint:VpcEndpoint"
	sgType       = "aws:ec2/securityGroup:SecurityGroup"
	ingressType  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	egressType   = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	flowLogType  = "aws:ec2/flowLog:FlowLog"
)

// args mirrors what the platform hands the network for each preset.
func args(preset string) *network.NetworkArgs {
	a := &network.NetworkArgs{
		Region:           "ap-northeast-1",
		CidrBlock:        "10.10.0.0/16",
		Subnets:          config.SubnetLayout{AvailabilityZoneMask: 19, PrivateMask: 20, PublicMask: 21, IsolatedMask: 22},
		LogRetentionDays: 7,
		PathPrefix:       "/saas-platform/test",
		Workloads: []network.Workload{
			{Name: "api", Port: 3000, Routed: true, Callers: []string{"notification"}, Database: true, Cache: true},
			{Name: "collaboration", Port: 3001, Routed: true, Callers: []string{"api"}, Cache: true},
			{Name: "notification", Port: 3003},
			{Name: "report", Port: 3000, Callers: []string{"report", "nightly"}, Database: true},
			{Name: "nightly", Database: true},
		},
	}
	switch preset {
	case "dev":
		a.AvailabilityZones = 2
		a.NatGateways = awsx.NatGatewayStrategySingle
	case "prod":
		a.AvailabilityZones = 3
		a.NatGateways = awsx.NatGatewayStrategyOnePerAz
		a.InterfaceEndpoints = network.InterfaceEndpointServices
		a.FlowLogs = true
		a.LogRetentionDays = 90
	}
	return a
}

// run builds a Network under the shared mock and hands it to inspect.
func run(a *network.NetworkArgs, inspect func(*network.Network)) ([]plan.Resource, error) {
	mocks := plan.NewMocks("saas-platform", "test", a.Region)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		n, err := network.NewNetwork(ctx, "net", a)
		if err == nil && inspect != nil {
			inspect(n)
		}
		return err
	}, pulumi.WithMocks("saas-platform", "test", mocks))
	return mocks.Resources(), err
}

func build(t *testing.T, a *network.NetworkArgs) []plan.Resource {
	t.Helper()
	resources, err := run(a, nil)
	require.NoError(t, err)
	return resources
}

func TestTheVpcSpansThePresetsZonesWithItsNatLayout(t *testing.T) {
	cases := []struct {
		preset string
		zones  []string
		nat    string
	}{
		{"dev", []string{"ap-northeast-1a", "ap-northeast-1b"}, "Single"},
		{"prod", []string{"ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"}, "OnePerAz"},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			vpcs := plan.OfType(build(t, args(tc.preset)), vpcType)
			require.Len(t, vpcs, 1)
			vpc := vpcs[0]
			assert.Equal(t, tc.zones, vpc.Strings("availabilityZoneNames"))
			assert.Equal(t, tc.nat, vpc.String("natGateways.strategy"))
			assert.Equal(t, "Auto", vpc.String("subnetStrategy"))
			assert.Equal(t, "10.10.0.0/16", vpc.String("cidrBlock"))
			assert.True(t, vpc.Bool("enableDnsHostnames"))
			assert.True(t, vpc.Bool("enableDnsSupport"))
			assert.Equal(t, 19.0, vpc.Number("availabilityZoneCidrMask"))

			var tiers []string
			for i := 0; i < 3; i++ {
				tiers = append(tiers, fmt.Sprintf("%s/%v", vpc.String(fmt.Sprintf("subnetSpecs.%d.type", i)), vpc.Number(fmt.Sprintf("subnetSpecs.%d.cidrMask", i))))
			}
			assert.Equal(t, []string{"Private/20", "Public/21", "Isolated/22"}, tiers, "the spec order is part of the layout")
		})
	}
}

func TestARegionWithTooFewZonesFailsClearly(t *testing.T) {
	a := args("dev")
	a.AvailabilityZones = 7
	_, err := run(a, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the stack asks for 7")
}

func TestEndpointsFollowThePreset(t *testing.T) {
	cases := []struct {
		preset     string
		interfaces []string
	}{
		{"dev", nil},
		{"prod", []string{"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"}},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			resources := build(t, args(tc.preset))
			endpointSG, ok := plan.Named(resources, sgType, "net-endpoints")
			require.True(t, ok)

			var gateways, interfaces []string
			for _, e := range plan.OfType(resources, endpointType) {
				switch e.String("vpcEndpointType") {
				case "Gateway":
					gateways = append(gateways, e.String("serviceName"))
					assert.NotEmpty(t, e.Strings("routeTableIds"), "a gateway endpoint without routes carries nothing")
				case "Interface":
					interfaces = append(interfaces, e.String("serviceName")[len("com.amazonaws.ap-northeast-1."):])
					assert.True(t, e.Bool("privateDnsEnabled"))
					assert.Equal(t, []string{endpointSG.ID}, e.Strings("securityGroupIds"))
					assert.Len(t, e.Strings("subnetIds"), args(tc.preset).AvailabilityZones, "one per zone")
				}
			}
			sort.Strings(interfaces)
			assert.Equal(t, []string{"com.amazonaws.ap-northeast-1.s3"}, gateways, "S3 gateway endpoint always")
			assert.Equal(t, tc.interfaces, interfaces)
		})
	}
}

func TestFlowLogsAreWrittenByARoleOnlyThisAccountsFlowLogsCanUse(t *testing.T) {
	assert.Empty(t, plan.OfType(build(t, args("dev")), flowLogType), "dev has no flow logs")

	resources := build(t, args("prod"))
	logs := plan.OfType(resources, flowLogType)
	require.Len(t, logs, 1)
	assert.Equal(t, "ALL", logs[0].String("trafficType"))
	assert.Equal(t, "cloud-watch-logs", logs[0].String("logDestinationType"))

	group, ok := plan.Named(resources, "aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
	require.True(t, ok)
	assert.Equal(t, "/saas-platform/test/vpc/flow-logs", group.String("name"))
	assert.Equal(t, 90.0, group.Number("retentionInDays"))

	role, ok := plan.Named(resources, "aws:iam/role:Role", "net-flow-logs")
	require.True(t, ok)
	var trust struct {
		Statement []struct {
			Principal map[string][]string
			Condition map[string]map[string][]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(role.String("assumeRolePolicy")), &trust))
	assert.Equal(t, []string{"vpc-flow-logs.amazonaws.com"}, trust.Statement[0].Principal["Service"])
	assert.Equal(t, []string{plan.AccountID}, trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"])

	policy, ok := plan.Named(resources, "aws:iam/rolePolicy:RolePolicy", "net-flow-logs")
	require.True(t, ok)
	var doc struct{ Statement []struct{ Resource []string } }
	require.NoError(t, json.Unmarshal([]byte(policy.String("policy")), &doc))
	for _, arn := range doc.Statement[0].Resource {
		assert.Contains(t, arn, ":log-group:/saas-platform/test/vpc/flow-logs", "the role writes its own log group only")
	}
}

// flows renders every security group rule as "group direction port peer".
func flows(resources []plan.Resource) []string {
	groupNames := map[string]string{}
	for _, sg := range plan.OfType(resources, sgType) {
		groupNames[sg.ID] = sg.Name[len("net-"):]
	}
	var out []string
	for _, typ := range []string{ingressType, egressType} {
		direction := map[string]string{ingressType: "from", egressType: "to"}[typ]
		for _, r := range plan.OfType(resources, typ) {
			peer := r.String("cidrIpv4")
			if id := r.String("referencedSecurityGroupId"); id != "" {
				peer = groupNames[id]
			}
			if r.Number("fromPort") != r.Number("toPort") || r.String("ipProtocol") != "tcp" {
				out = append(out, "non-single-port rule "+r.Name)
			}
			out = append(out, fmt.Sprintf("%s %s %v %s", groupNames[r.String("securityGroupId")], direction, r.Number("fromPort"), peer))
		}
	}
	sort.Strings(out)
	return out
}

func TestEachServiceAcceptsOnlyTheLoadBalancerIfRoutedAndItsCallersAndTheDataOnlyItsUsers(t *testing.T) {
	for _, preset := range []string{"dev", "prod"} {
		t.Run(preset, func(t *testing.T) {
			want := []string{
				"cache from 6379 svc-api",
				"cache from 6379 svc-collaboration",
				"db from 5432 provisioner",
				"db from 5432 svc-api",
				"db from 5432 svc-nightly",
				"db from 5432 svc-report",
				"endpoints from 443 10.10.0.0/16",
				"lb to 3000 svc-api",
				"lb to 3001 svc-collaboration",
				"provisioner to 443 0.0.0.0/0",
				"provisioner to 5432 db",
				"svc-api from 3000 lb",
				"svc-api from 3000 svc-notification",
				"svc-api to 3001 svc-collaboration",
				"svc-api to 443 0.0.0.0/0",
				"svc-api to 5432 db",
				"svc-api to 6379 cache",
				"svc-collaboration from 3001 lb",
				"svc-collaboration from 3001 svc-api",
				"svc-collaboration to 443 0.0.0.0/0",
				"svc-collaboration to 6379 cache",
				"svc-nightly to 3000 svc-report",
				"svc-nightly to 443 0.0.0.0/0",
				"svc-nightly to 5432 db",
				"svc-notification to 3000 svc-api",
				"svc-notification to 443 0.0.0.0/0",
				"svc-report from 3000 svc-nightly",
				"svc-report from 3000 svc-report",
				"svc-report to 3000 svc-report",
				"svc-report to 443 0.0.0.0/0",
				"svc-report to 5432 db",
			}
			// The whole internet but the VPC itself: 16 ranges around 10.10.0.0/16.
			sources := config.LoadBalancerSources([]string{"0.0.0.0/0"}, "10.10.0.0/16")
			require.Len(t, sources, 16)
			for _, cidr := range sources {
				want = append(want, "lb from 80 "+cidr, "lb from 443 "+cidr)
			}
			sort.Strings(want)
			assert.Equal(t, want, flows(build(t, args(preset))))
		})
	}
}

func TestNoSecurityGroupButTheLoadBalancersAcceptsAddressesAndItNoneOfTheVPCs(t *testing.T) {
	resources := build(t, args("prod"))
	lb, ok := plan.Named(resources, sgType, "net-lb")
	require.True(t, ok)
	vpc := netip.MustParsePrefix("10.10.0.0/16")
	lbRules := 0
	for _, r := range plan.OfType(resources, ingressType) {
		cidr := r.String("cidrIpv4")
		if cidr == "" || cidr == "10.10.0.0/16" {
			continue // a group, or the endpoints' HTTPS from inside the VPC
		}
		lbRules++
		assert.Equal(t, lb.ID, r.String("securityGroupId"), "%s opens a non-load-balancer group to the internet", r.Name)
		assert.Contains(t, []float64{80, 443}, r.Number("fromPort"))
		assert.False(t, netip.MustParsePrefix(cidr).Overlaps(vpc), "%s admits part of the VPC: a service could call through the load balancer", r.Name)
	}
	assert.Equal(t, 32, lbRules, "80 and 443 from each of the 16 ranges around the VPC")
}

func TestTheLoadBalancerAdmitsTheAllowedRangesLessTheVPC(t *testing.T) {
	cases := []struct {
		name    string
		allowed []string
		want    []string
	}{
		{"a range apart from the VPC stays as it is", []string{"203.0.113.0/24"}, []string{"203.0.113.0/24"}},
		{"a range around the VPC becomes the ranges beside it", []string{"10.8.0.0/14"}, []string{"10.8.0.0/15", "10.11.0.0/16"}},
		{"a range inside the VPC admits nothing", []string{"10.10.4.0/24"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, config.LoadBalancerSources(tc.allowed, "10.10.0.0/16"))
		})
	}
}

func TestDataStoresLiveInTheIsolatedSubnets(t *testing.T) {
	var isolated, private []string
	resources, err := run(args("dev"), func(n *network.Network) {
		pulumi.All(n.IsolatedSubnetIds, n.PrivateSubnetIds).ApplyT(func(v []any) error {
			isolated, private = v[0].([]string), v[1].([]string)
			return nil
		})
	})
	require.NoError(t, err)
	require.Len(t, isolated, 2)
	assert.NotEqual(t, isolated, private)

	for _, typ := range []string{"aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup"} {
		groups := plan.OfType(resources, typ)
		require.Len(t, groups, 1, typ)
		assert.Equal(t, isolated, groups[0].Strings("subnetIds"), typ)
	}
}

func TestAServiceThatTakesCallsNeedsAPort(t *testing.T) {
	a := args("dev")
	a.Workloads = append(a.Workloads, network.Workload{Name: "job", Callers: []string{"api"}})
	_, err := run(a, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service job takes calls but has no port")
}
