package network

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
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

// Workload is one stack-file service as the network sees it: who may reach
// it and what it may reach. Each gets a security group of its own.
type Workload struct {
	Name string
	// Port is what the workload accepts traffic on; 0 for a scheduled task,
	// which accepts nothing.
	Port int
	// Routed: the load balancer forwards to Port.
	Routed bool
	// Callers are the workloads that call this one on Port.
	Callers []string
	// Database and Cache: the workload uses PostgreSQL / Redis.
	Database, Cache bool
}

// securityGroups builds the chain internet -> load balancer -> services ->
// PostgreSQL / Redis, one group per service, and the endpoints' and the
// provisioner's groups. Groups start empty and every rule is its own
// resource: AWS's default allow-all egress is removed, so a group allows
// exactly what is listed here. A service accepts its port from the load
// balancer if it is routed and from its callers, and nothing else; the
// data stores accept the services that use them and the provisioner.
func (n *Network) securityGroups(ctx *pulumi.Context, name string, args *NetworkArgs) error {
	groups := []struct {
		role, description string
		out               *pulumi.StringOutput
	}{
		{"lb", "Load balancer: HTTP and HTTPS from the internet", &n.LoadBalancerSecurityGroupId},
		{"db", "PostgreSQL: from service tasks and the tenant provisioner only", &n.DatabaseSecurityGroupId},
		{"cache", "Redis: from service tasks only", &n.CacheSecurityGroupId},
		{"endpoints", "VPC interface endpoints: HTTPS from inside the VPC", &n.EndpointSecurityGroupId},
		{"provisioner", "Tenant database provisioner: to PostgreSQL and AWS APIs only", &n.ProvisionerSecurityGroupId},
	}
	services := map[string]*pulumi.StringOutput{}
	n.ServiceSecurityGroupIds = map[string]pulumi.StringOutput{}
	for _, w := range args.Workloads {
		services[w.Name] = new(pulumi.StringOutput)
		groups = append(groups, struct {
			role, description string
			out               *pulumi.StringOutput
		}{serviceRole(w.Name), "Tasks of service " + w.Name + ": from the load balancer and its callers only", services[w.Name]})
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
	for svc, out := range services {
		n.ServiceSecurityGroupIds[svc] = *out
	}

	lb, db, cache := n.LoadBalancerSecurityGroupId, n.DatabaseSecurityGroupId, n.CacheSecurityGroupId
	provisioner := n.ProvisionerSecurityGroupId
	rules := map[string][]rule{
		"lb": loadBalancerIngress(args.LoadBalancerCidrs, args.CidrBlock),
		"db": {
			from(provisioner, PostgresPort, "provisioner", "PostgreSQL from the tenant provisioner"),
		},
		"provisioner": {
			to(db, PostgresPort, "postgres", "PostgreSQL"),
			toCIDR(anywhere, 443, "https", "HTTPS to Secrets Manager"),
		},
		"endpoints": {fromCIDR(args.CidrBlock, 443, "vpc", "HTTPS from inside the VPC")},
	}
	for _, w := range args.Workloads {
		role, own := serviceRole(w.Name), *services[w.Name]
		rules[role] = append(rules[role], toCIDR(anywhere, 443, "https", "HTTPS to AWS APIs, ECR and external APIs"))
		if w.Database {
			rules[role] = append(rules[role], to(db, PostgresPort, "postgres", "PostgreSQL"))
			rules["db"] = append(rules["db"], from(own, PostgresPort, role, "PostgreSQL from service "+w.Name))
		}
		if w.Cache {
			rules[role] = append(rules[role], to(cache, RedisPort, "redis", "Redis"))
			rules["cache"] = append(rules["cache"], from(own, RedisPort, role, "Redis from service "+w.Name))
		}
		if (w.Routed || len(w.Callers) > 0) && (w.Port < 1 || w.Port > 65535) {
			return fmt.Errorf("service %s takes calls but has no port", w.Name)
		}
		if w.Routed {
			rules["lb"] = append(rules["lb"], to(own, w.Port, role, "to service "+w.Name))
			rules[role] = append(rules[role], from(lb, w.Port, "lb", "from the load balancer"))
		}
		for _, caller := range w.Callers {
			callerGroup := services[caller]
			if callerGroup == nil {
				return fmt.Errorf("service %s: its caller %s has no security group", w.Name, caller)
			}
			callerRole := serviceRole(caller)
			rules[role] = append(rules[role], from(*callerGroup, w.Port, callerRole, "from service "+caller))
			rules[callerRole] = append(rules[callerRole], to(own, w.Port, role, "to service "+w.Name))
		}
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

// serviceRole names a service's group and its rules: svc-<service>, apart
// from the platform's own groups whatever the service is called.
func serviceRole(service string) string { return "svc-" + service }

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

// loadBalancerIngress admits HTTP and HTTPS from each allowed range, less
// the VPC's own (see config.LoadBalancerSources): nothing inside the VPC
// reaches the load balancer, so no call between services passes it.
func loadBalancerIngress(cidrs []string, vpc string) []rule {
	if len(cidrs) == 0 {
		cidrs = []string{anywhere}
	}
	var rules []rule
	for _, cidr := range config.LoadBalancerSources(cidrs, vpc) {
		suffix := "-" + strings.NewReplacer(".", "-", "/", "-").Replace(cidr)
		rules = append(rules,
			fromCIDR(cidr, 80, "http"+suffix, "HTTP from "+cidr),
			fromCIDR(cidr, 443, "https"+suffix, "HTTPS from "+cidr))
	}
	return rules
}
