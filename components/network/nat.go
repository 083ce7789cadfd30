package network

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/sleep"
)

// The NAT instance: one small Graviton instance instead of a NAT gateway.
const (
	NatInstanceType = "t4g.nano"
	// NatImageParameter is AWS's own public SSM parameter naming the latest
	// Amazon Linux 2023 image for arm64: no community image is involved.
	NatImageParameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
	// NatRootVolumeGiB is the image's own root volume size.
	NatRootVolumeGiB = 8
)

// NatRoutes are the destinations the private route tables send to the NAT
// instance. Two halves of the internet rather than 0.0.0.0/0: a stack
// moving from a NAT gateway adds these before awsx removes the gateway's
// 0.0.0.0/0 route (Pulumi deletes last), and a route to the same
// destination could not be created while that one exists. Longest prefix
// wins, so traffic moves to the instance at once; the VPC's own routes and
// the S3 gateway endpoint's prefix list are more specific still.
var NatRoutes = []string{"0.0.0.0/1", "128.0.0.0/1"}

// NatPorts are what the NAT instance forwards: the only port the services'
// and the provisioner's security groups may send to the internet on.
// Widen both together.
var NatPorts = []int{443}

// natUserData configures NAT at first boot, as AWS's guide to NAT
// instances does on Amazon Linux 2023: forwarding on, and what leaves the
// primary interface from the VPC masqueraded behind the instance's
// address. The rules are saved, so that a reboot (or a recovery) keeps them.
func natUserData(vpcCidr string) string {
	return strings.Join([]string{
		"#!/bin/bash",
		"set -euo pipefail",
		"dnf install -y iptables-services",
		"echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-nat.conf",
		"sysctl --system",
		`iface="$(ip -o -4 route show to default | awk '{print $5; exit}')"`,
		fmt.Sprintf(`iptables -t nat -A POSTROUTING -o "$iface" -s %s -j MASQUERADE`, vpcCidr),
		"iptables -F FORWARD",
		"service iptables save",
		"systemctl enable --now iptables",
		"",
	}, "\n")
}

// natInstance runs NAT for every private subnet on one instance in the
// first public subnet. Failure handling is EC2's own: a system status
// check failure (the host) recovers the instance onto new hardware with
// the same id, network interface, private and public address, so the
// routes stay valid; an instance status check failure (its OS) reboots
// it. A recovery or reboot takes a minute or two without egress. An Auto
// Scaling group would also survive the loss of the zone, but its new
// instance gets a new network interface, which the instance itself must
// then attach or re-route with IAM permissions of its own: more moving
// parts, for dev.
func (n *Network) natInstance(ctx *pulumi.Context, name string, args *NetworkArgs) error {
	parent := pulumi.Parent(n)
	image := ssm.LookupParameterOutput(ctx, ssm.LookupParameterOutputArgs{Name: pulumi.String(NatImageParameter)}, parent)

	sg, err := ec2.NewSecurityGroup(ctx, name+"-nat", &ec2.SecurityGroupArgs{
		VpcId:               n.VpcId,
		Description:         pulumi.String("NAT instance: HTTPS from the private subnets, out to the internet"),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                pulumi.StringMap{"Name": pulumi.String(name + "-nat")},
	}, parent)
	if err != nil {
		return fmt.Errorf("nat security group: %w", err)
	}
	n.NatSecurityGroupId = sg.ID().ToStringOutput()

	routeTables := make([]pulumi.StringOutput, args.AvailabilityZones)
	for i := 0; i < args.AvailabilityZones; i++ {
		subnet := n.PrivateSubnetIds.Index(pulumi.Int(i))
		cidr := ec2.LookupSubnetOutput(ctx, ec2.LookupSubnetOutputArgs{Id: subnet}, parent).CidrBlock()
		routeTables[i] = ec2.LookupRouteTableOutput(ctx, ec2.LookupRouteTableOutputArgs{SubnetId: subnet}, parent).RouteTableId()
		for _, port := range NatPorts {
			if _, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("%s-nat-in-private-%d-%d", name, i+1, port), &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId: n.NatSecurityGroupId, IpProtocol: pulumi.String("tcp"),
				FromPort: pulumi.Int(port), ToPort: pulumi.Int(port), CidrIpv4: cidr,
				Description: pulumi.String(fmt.Sprintf("from private subnet %d (tcp %d)", i+1, port)),
			}, parent); err != nil {
				return fmt.Errorf("nat security group: %w", err)
			}
		}
	}
	for _, port := range NatPorts {
		if _, err := vpc.NewSecurityGroupEgressRule(ctx, fmt.Sprintf("%s-nat-out-internet-%d", name, port), &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: n.NatSecurityGroupId, IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(port), ToPort: pulumi.Int(port), CidrIpv4: pulumi.String(anywhere),
			Description: pulumi.String(fmt.Sprintf("to the internet (tcp %d)", port)),
		}, parent); err != nil {
			return fmt.Errorf("nat security group: %w", err)
		}
	}

	instance, err := ec2.NewInstance(ctx, name+"-nat", &ec2.InstanceArgs{
		Ami:                      image.InsecureValue(),
		InstanceType:             pulumi.String(NatInstanceType),
		SubnetId:                 n.PublicSubnetIds.Index(pulumi.Int(0)),
		VpcSecurityGroupIds:      pulumi.StringArray{sg.ID()},
		AssociatePublicIpAddress: pulumi.Bool(true),
		// It forwards other hosts' packets: EC2 must let through what is
		// neither from nor to it.
		SourceDestCheck:         pulumi.Bool(false),
		UserData:                pulumi.String(natUserData(args.CidrBlock)),
		UserDataReplaceOnChange: pulumi.Bool(true),
		MetadataOptions: &ec2.InstanceMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: &ec2.InstanceRootBlockDeviceArgs{
			VolumeType:          pulumi.String("gp3"),
			VolumeSize:          pulumi.Int(NatRootVolumeGiB),
			Encrypted:           pulumi.Bool(true),
			DeleteOnTermination: pulumi.Bool(true),
		},
		// Standard credits: a burst never bills more than the hourly price.
		CreditSpecification: &ec2.InstanceCreditSpecificationArgs{CpuCredits: pulumi.String("standard")},
		MaintenanceOptions:  &ec2.InstanceMaintenanceOptionsArgs{AutoRecovery: pulumi.String("default")},
		Tags:                pulumi.StringMap{"Name": pulumi.String(name + "-nat")},
	}, parent,
		// A newer image does not replace a running NAT instance on some
		// unrelated up: it is taken when the instance is replaced.
		pulumi.IgnoreChanges([]string{"ami"}))
	if err != nil {
		return fmt.Errorf("nat instance: %w", err)
	}
	n.NatInstanceId = instance.ID().ToStringOutput()
	if err := n.natSleep(ctx, name, args, instance); err != nil {
		return fmt.Errorf("nat instance schedule: %w", err)
	}

	for i, table := range routeTables {
		for j, destination := range NatRoutes {
			if _, err := ec2.NewRoute(ctx, fmt.Sprintf("%s-nat-%d-%d", name, i+1, j+1), &ec2.RouteArgs{
				RouteTableId:         table,
				DestinationCidrBlock: pulumi.String(destination),
				NetworkInterfaceId:   instance.PrimaryNetworkInterfaceId,
			}, parent); err != nil {
				return fmt.Errorf("nat route: %w", err)
			}
		}
	}

	for _, a := range []struct{ check, action, what string }{
		{"StatusCheckFailed_System", "recover", "recovers the NAT instance onto healthy hardware"},
		{"StatusCheckFailed_Instance", "reboot", "reboots the NAT instance when its OS stops answering"},
	} {
		if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-nat-"+a.action, &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String("EC2 " + a.what),
			Namespace:          pulumi.String("AWS/EC2"),
			MetricName:         pulumi.String(a.check),
			Dimensions:         pulumi.StringMap{"InstanceId": instance.ID()},
			Statistic:          pulumi.String("Maximum"),
			Period:             pulumi.Int(60),
			EvaluationPeriods:  pulumi.Int(2),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			Threshold:          pulumi.Float64(0),
			AlarmActions:       pulumi.Array{pulumi.String(fmt.Sprintf("arn:aws:automate:%s:ec2:%s", args.Region, a.action))},
		}, parent); err != nil {
			return fmt.Errorf("nat %s alarm: %w", a.action, err)
		}
	}
	return nil
}

// SleepArgs is the stack's sleep schedule, as the network needs it.
type SleepArgs struct {
	Schedule config.Schedule
	// GroupName is the stack's EventBridge Scheduler schedule group.
	GroupName pulumi.StringInput
}

// Universal targets of EventBridge Scheduler that stop and start the NAT
// instance: EC2's own API, called by AWS with the role below.
const (
	StopInstancesTarget  = "arn:aws:scheduler:::aws-sdk:ec2:stopInstances"
	StartInstancesTarget = "arn:aws:scheduler:::aws-sdk:ec2:startInstances"
)

// natSleep stops the NAT instance with the rest of the stack: asleep,
// nothing in the private subnets runs that needs egress, and a stopped
// instance bills neither its hours nor its public address (EC2 releases
// it, and gives a new one at the next start; the routes point at the
// network interface, which stays). It starts with the stack's wake-up,
// and the services waking at the same minute retry their image pulls
// until it forwards, within a minute or two.
func (n *Network) natSleep(ctx *pulumi.Context, name string, args *NetworkArgs, instance *ec2.Instance) error {
	asleep := args.Sleep
	if !asleep.Schedule.On() {
		return nil
	}
	parent := pulumi.Parent(n)
	caller, err := aws.GetCallerIdentity(ctx, nil, parent)
	if err != nil {
		return fmt.Errorf("reading the account id: %w", err)
	}
	role, err := iam.NewRole(ctx, name+"-nat-scheduler", &iam.RoleArgs{
		Description:      pulumi.String("Lets EventBridge Scheduler stop and start the NAT instance of " + name),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("scheduler.amazonaws.com", caller.AccountId).String()),
	}, parent)
	if err != nil {
		return err
	}
	policy, err := iam.NewRolePolicy(ctx, name+"-nat-scheduler", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			return awspolicy.New(awspolicy.Statement{
				Sid:      "StopAndStartTheNATInstance",
				Effect:   "Allow",
				Action:   []string{"ec2:StopInstances", "ec2:StartInstances"},
				Resource: []string{fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", args.Region, caller.AccountId, v[0].(string))},
			})
		}, instance.ID().ToStringOutput()),
	}, parent)
	if err != nil {
		return err
	}
	input := instance.ID().ToStringOutput().ApplyT(func(id string) (string, error) {
		b, err := json.Marshal(map[string][]string{"InstanceIds": {id}})
		return string(b), err
	}).(pulumi.StringOutput)
	if err := (sleep.Schedules{
		Name: name + "-nat", Schedule: asleep.Schedule, Group: asleep.GroupName,
		Sleep: StopInstancesTarget, Wake: StartInstancesTarget, Role: role.Arn, Input: input,
		Describe: func(t config.Transition) string { return "The NAT instance: " + t.Name },
	}).Register(ctx, parent, pulumi.DependsOn([]pulumi.Resource{policy})); err != nil {
		return fmt.Errorf("nat: %w", err)
	}
	return nil
}
