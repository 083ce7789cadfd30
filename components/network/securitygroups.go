package network

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const anywhere = "0.0.0.0/0"

// rule is one allowed TCP flow. Exactly one of cidr and peer is set.
type rule struct {
	name    string // unique within its security group
	egress  bool
	port    int
	cidr    string
	peer    pulumi.StringOutput
	hasPeer bool
	purpose string
}

func from(peer pulumi.StringOutput, port int, name, purpose string) rule {
	return rule{name: name, port: port, peer: peer, hasPeer: true, purpose: purpose}
}

func fromCIDR(cidr string, port int, name, purpose string) rule {
	return rule{name: name, port: port, cidr: cidr, purpose: purpose}
}

func to(peer pulumi.StringOutput, port int, name, purpose string) rule {
	r := from(peer, port, name, purpose)
	r.egress = true
	return r
}

func toCIDR(cidr string, port int, name, purpose string) rule {
	r := fromCIDR(cidr, port, name, purpose)
	r.egress = true
	return r
}

// securityGroups builds the chain internet -> load balancer -> services ->
// PostgreSQL / Redis, and the endpoints' group. Groups start empty and every
// rule is its own resource: AWS's default allow-all egress is removed, so a
// group allows exactly what is listed here.
func (n *Network) securityGroups(ctx *pulumi.Context, name string, args *NetworkArgs) error {
	groups := []struct {
		role, description string
		out               *pulumi.StringOutput
	}{
		{"lb", "Load balancer: HTTP and HTTPS from the internet", &n.LoadBalancerSecurityGroupId},
		{"services", "Service tasks: from the load balancer and from each other", &n.ServiceSecurityGroupId},
		{"db", "PostgreSQL: from service tasks and the tenant provisioner only", &n.DatabaseSecurityGroupId},
		{"cache", "Redis: from service tasks only", &n.CacheSecurityGroupId},
		{"endpoints", "VPC interface endpoints: HTTPS from inside the VPC", &n.EndpointSecurityGroupId},
		{"provisioner", "Tenant database provisioner: to PostgreSQL and AWS APIs only", &n.ProvisionerSecurityGroupId},
	}
	for _, g := range groups {
		sg, err := ec2.NewSecurityGroup(ctx, name+"-"+g.role, &ec2.SecurityGroupArgs{
			VpcId: n.VpcId,
			// The description cannot change in place: keep it stable.
			Description:         pulumi.String(g.description),
			RevokeRulesOnDelete: pulumi.Bool(true),
			Tags:                pulumi.StringMap{"Name": pulumi.String(name + "-" + g.role)},
		}, pulumi.Parent(n))
		if err != nil {
			return fmt.Errorf("%s security group: %w", g.role, err)
		}
		*g.out = sg.ID().ToStringOutput()
	}

	lb, svc, db, cache := n.LoadBalancerSecurityGroupId, n.ServiceSecurityGroupId, n.DatabaseSecurityGroupId, n.CacheSecurityGroupId
	provisioner := n.ProvisionerSecurityGroupId
	rules := map[string][]rule{
		"lb": loadBalancerIngress(args.LoadBalancerCidrs),
		"services": {
			toCIDR(anywhere, 443, "https", "HTTPS to AWS APIs, ECR and external APIs"),
			to(db, PostgresPort, "postgres", "PostgreSQL"),
			to(cache, RedisPort, "redis", "Redis"),
		},
		"db": {
			from(svc, PostgresPort, "services", "PostgreSQL from service tasks"),
			from(provisioner, PostgresPort, "provisioner", "PostgreSQL from the tenant provisioner"),
		},
		"provisioner": {
			to(db, PostgresPort, "postgres", "PostgreSQL"),
			toCIDR(anywhere, 443, "https", "HTTPS to Secrets Manager"),
		},
		"cache":     {from(svc, RedisPort, "services", "Redis from service tasks")},
		"endpoints": {fromCIDR(args.CidrBlock, 443, "vpc", "HTTPS from inside the VPC")},
	}
	for _, port := range distinct(args.RoutedPorts) {
		rules["lb"] = append(rules["lb"], to(svc, port, fmt.Sprintf("services-%d", port), "to service tasks"))
		rules["services"] = append(rules["services"], from(lb, port, fmt.Sprintf("lb-%d", port), "from the load balancer"))
	}
	for _, port := range distinct(args.ServicePorts) {
		rules["services"] = append(rules["services"],
			from(svc, port, fmt.Sprintf("peers-%d", port), "from other service tasks"),
			to(svc, port, fmt.Sprintf("peers-%d", port), "to other service tasks"))
	}

	for _, g := range groups {
		for _, r := range rules[g.role] {
			if err := addRule(ctx, n, name+"-"+g.role, *g.out, r); err != nil {
				return fmt.Errorf("%s security group: %w", g.role, err)
			}
		}
	}
	return nil
}

func addRule(ctx *pulumi.Context, n *Network, groupName string, group pulumi.StringOutput, r rule) error {
	var cidr, peer pulumi.StringPtrInput
	if r.hasPeer {
		peer = r.peer
	} else {
		cidr = pulumi.String(r.cidr)
	}
	description := pulumi.String(fmt.Sprintf("%s (tcp %d)", r.purpose, r.port))
	if r.egress {
		_, err := vpc.NewSecurityGroupEgressRule(ctx, fmt.Sprintf("%s-out-%s", groupName, r.name), &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: group, IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port),
			CidrIpv4: cidr, ReferencedSecurityGroupId: peer, Description: description,
		}, pulumi.Parent(n))
		return err
	}
	_, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("%s-in-%s", groupName, r.name), &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: group, IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port),
		CidrIpv4: cidr, ReferencedSecurityGroupId: peer, Description: description,
	}, pulumi.Parent(n))
	return err
}

// loadBalancerIngress admits HTTP and HTTPS from each allowed range. The
// whole internet keeps the rules' first names, so stacks that allowed it
// before see no change.
func loadBalancerIngress(cidrs []string) []rule {
	if len(cidrs) == 0 {
		cidrs = []string{anywhere}
	}
	var rules []rule
	for _, cidr := range cidrs {
		suffix, who := "", "from "+cidr
		if cidr == anywhere {
			who = "from the internet"
		} else {
			suffix = "-" + strings.NewReplacer(".", "-", "/", "-").Replace(cidr)
		}
		rules = append(rules,
			fromCIDR(cidr, 80, "http"+suffix, "HTTP "+who),
			fromCIDR(cidr, 443, "https"+suffix, "HTTPS "+who))
	}
	return rules
}
