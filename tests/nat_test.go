package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/network"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	ec2InstanceType = "aws:ec2/instance:Instance"
	routeType       = "aws:ec2/route:Route"
	egressType      = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
)

// natInstance is dev's NAT instance, and the plan it is in.
func natInstance(t *testing.T) (*plan.Result, plan.Resource) {
	t.Helper()
	r := planStack(t, "dev")
	instances := plan.OfType(r.Resources, ec2InstanceType)
	require.Len(t, instances, 1, "one NAT instance")
	return r, instances[0]
}

func TestDevRunsNATOnOneSmallGravitonInstanceOfAWSsOwnImage(t *testing.T) {
	r, nat := natInstance(t)
	assert.Equal(t, "t4g.nano", nat.String("instanceType"), "Graviton, the smallest")
	// The image is AWS's public SSM parameter for Amazon Linux 2023 on
	// arm64, read at deployment; a newer one does not replace the
	// running instance.
	assert.True(t, strings.HasPrefix(nat.String("ami"), "ami-"))
	assert.Contains(t, r.Invokes, plan.Invoke{Token: "aws:ssm/getParameter:getParameter", Provider: nat.Options.Provider})
	assert.Equal(t, "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64", network.NatImageParameter)
	assert.Equal(t, []string{"ami"}, nat.Options.IgnoreChanges)

	publicSubnets := r.Outputs["publicSubnetIds"].([]any)
	assert.Equal(t, publicSubnets[0], nat.String("subnetId"), "in a public subnet")
	assert.True(t, nat.Bool("associatePublicIpAddress"))
	assert.False(t, nat.Bool("sourceDestCheck"), "it forwards other hosts' packets")
	assert.Equal(t, "standard", nat.String("creditSpecification.cpuCredits"), "a burst never costs more than the hour")
	assert.Empty(t, nat.String("iamInstanceProfile"), "it needs no AWS permission")
	assert.Empty(t, nat.String("keyName"), "no SSH key")

	// Configured at boot: forwarding on, the VPC masqueraded out.
	userData := nat.String("userData")
	assert.Contains(t, userData, "net.ipv4.ip_forward = 1")
	assert.Contains(t, userData, "-s 10.10.0.0/16 -j MASQUERADE")
	assert.Contains(t, userData, "service iptables save", "rules survive a reboot or a recovery")
	assert.True(t, nat.Bool("userDataReplaceOnChange"), "new boot configuration: a new instance")
}

func TestThePrivateRouteTablesSendTheInternetToTheNATInstance(t *testing.T) {
	r, nat := natInstance(t)
	eni := "eni-" + nat.ID[len(nat.ID)-17:] // the mock's primary network interface of the instance
	routes := plan.OfType(r.Resources, routeType)
	tables := map[string][]string{}
	for _, route := range routes {
		assert.Equal(t, eni, route.String("networkInterfaceId"), route.Name)
		tables[route.String("routeTableId")] = append(tables[route.String("routeTableId")], route.String("destinationCidrBlock"))
	}
	// One route table per private subnet, each with both halves of the
	// internet: no 0.0.0.0/0 that would collide with a NAT gateway's
	// route while a stack moves from one to the other.
	require.Len(t, tables, len(r.Outputs["privateSubnetIds"].([]any)))
	for table, destinations := range tables {
		assert.ElementsMatch(t, []string{"0.0.0.0/1", "128.0.0.0/1"}, destinations, table)
	}
	for _, route := range plan.OfType(planStack(t, "prod").Resources, routeType) {
		assert.NotEqual(t, "0.0.0.0/1", route.String("destinationCidrBlock"), "prod keeps its NAT gateways")
	}
}

func TestTheNATInstancesGroupAdmitsOnlyThePrivateSubnetsAndOnlyWhatServicesSendOut(t *testing.T) {
	r, nat := natInstance(t)
	groups := nat.Strings("vpcSecurityGroupIds")
	require.Len(t, groups, 1, "a group of its own")
	group := groups[0]
	for _, sg := range plan.OfType(r.Resources, sgType) {
		if sg.ID == group {
			assert.Equal(t, "saas-platform-dev-nat", sg.Name)
		}
	}
	// The private subnets' ranges, as awsx lays them out (10.10.0.0/16, a
	// /19 per zone, the private /20 first in each).
	var from []string
	for _, rule := range plan.OfType(r.Resources, ingressType) {
		if rule.String("securityGroupId") != group {
			continue
		}
		from = append(from, rule.String("cidrIpv4"))
		assert.Equal(t, "tcp", rule.String("ipProtocol"), rule.Name)
		assert.Equal(t, 443.0, rule.Number("fromPort"), rule.Name)
		assert.Equal(t, 443.0, rule.Number("toPort"), rule.Name)
	}
	assert.ElementsMatch(t, []string{"10.10.0.0/20", "10.10.32.0/20"}, from)
	var to []string
	for _, rule := range plan.OfType(r.Resources, egressType) {
		if rule.String("securityGroupId") == group {
			to = append(to, rule.String("cidrIpv4"))
			assert.Equal(t, 443.0, rule.Number("fromPort"), rule.Name)
		}
	}
	assert.Equal(t, []string{"0.0.0.0/0"}, to)
	// And no group lets anything else reach it: nothing references it.
	for _, typ := range []string{ingressType, egressType} {
		for _, rule := range plan.OfType(r.Resources, typ) {
			assert.NotEqual(t, group, rule.String("referencedSecurityGroupId"), rule.Name)
		}
	}
}

func TestAFailedNATInstanceIsRecoveredOrRebootedByEC2Itself(t *testing.T) {
	r, nat := natInstance(t)
	actions := map[string]string{}
	for _, alarm := range plan.OfType(r.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		if alarm.String("namespace") != "AWS/EC2" {
			continue
		}
		assert.Equal(t, nat.ID, alarm.String("dimensions.InstanceId"), alarm.Name)
		assert.Equal(t, 60.0, alarm.Number("period"), alarm.Name)
		assert.Equal(t, "GreaterThanThreshold", alarm.String("comparisonOperator"), alarm.Name)
		assert.Equal(t, 0.0, alarm.Number("threshold"), alarm.Name)
		actions[alarm.String("metricName")] = alarm.Strings("alarmActions")[0]
	}
	assert.Equal(t, map[string]string{
		"StatusCheckFailed_System":   "arn:aws:automate:ap-northeast-1:ec2:recover",
		"StatusCheckFailed_Instance": "arn:aws:automate:ap-northeast-1:ec2:reboot",
	}, actions)
	assert.Equal(t, "default", nat.String("maintenanceOptions.autoRecovery"))
}
