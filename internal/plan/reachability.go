package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Names of the things a flow goes between, as a person would say them.
// Services are service:<name>, databases database:shared,
// database:<tenant> (a silo tenant's instance) or database:<pool> (one of
// database.pools).
const (
	NodeInternet     = "internet"        // anywhere outside the VPC, to an internet-facing load balancer
	NodePeered       = "peered-networks" // outside the VPC, to an internal load balancer (VPN, peering)
	NodeLoadBalancer = "load-balancer"
	NodeCache        = "cache"
	NodeProvisioner  = "provisioner"
	// NodeAWSAPIs is what lies outside the VPC, reached through NAT, and the
	// VPC's interface endpoints: AWS's APIs, ECR and external APIs.
	NodeAWSAPIs        = "aws-apis"
	NodeSharedDatabase = "database:shared"
)

// Flow is one connection the plan's resources allow: from may open a
// connection to to on the ports, and AWS lets it through both ends'
// security groups and the network's routes.
type Flow struct {
	From     string
	To       string
	Protocol string // tcp, udp, icmp, or all
	FromPort int
	ToPort   int
	// Sources are the address ranges a flow from outside the VPC comes from.
	Sources []string
}

// MarshalJSON writes a flow as {from, to, port, protocol}, or with
// fromPort/toPort for a range.
func (f Flow) MarshalJSON() ([]byte, error) {
	if f.FromPort == f.ToPort {
		return json.Marshal(struct {
			From     string `json:"from"`
			To       string `json:"to"`
			Port     int    `json:"port"`
			Protocol string `json:"protocol"`
		}{f.From, f.To, f.FromPort, f.Protocol})
	}
	return json.Marshal(struct {
		From     string `json:"from"`
		To       string `json:"to"`
		FromPort int    `json:"fromPort"`
		ToPort   int    `json:"toPort"`
		Protocol string `json:"protocol"`
	}{f.From, f.To, f.FromPort, f.ToPort, f.Protocol})
}

// Ports renders the flow's ports: 5432, or 1024-65535.
func (f Flow) Ports() string {
	if f.FromPort == f.ToPort {
		return fmt.Sprint(f.FromPort)
	}
	return fmt.Sprintf("%d-%d", f.FromPort, f.ToPort)
}

// String is "from -> to tcp/port", the form tests compare.
func (f Flow) String() string {
	return fmt.Sprintf("%s -> %s %s/%s", f.From, f.To, f.Protocol, f.Ports())
}

// Reachability is every flow the plan's resources allow.
type Reachability struct {
	Flows []Flow `json:"flows"`
}

// Resource types the analysis reads.
const (
	typeSecurityGroup = "aws:ec2/securityGroup:SecurityGroup"
	typeIngressRule   = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeEgressRule    = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	typeVpc           = "awsx:ec2:Vpc"
	typeLoadBalancer  = "aws:lb/loadBalancer:LoadBalancer"
	typeListener      = "aws:lb/listener:Listener"
	typeECSService    = "aws:ecs/service:Service"
	typeEventTarget   = "aws:cloudwatch/eventTarget:EventTarget"
	typeRDSInstance   = "aws:rds/instance:Instance"
	typeReplication   = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeServerless    = "aws:elasticache/serverlessCache:ServerlessCache"
	typeFunction      = "aws:lambda/function:Function"
	typeEndpoint      = "aws:ec2/vpcEndpoint:VpcEndpoint"
)

// permission is one security group rule: a protocol, a port range and a
// peer (another group, or an address range).
type permission struct {
	protocol         string
	fromPort, toPort int
	peerGroup        string
	cidr             netip.Prefix
}

// member is something that sits in a security group.
type member struct {
	name string
	// public: it has an address the internet routes to (an internet-facing
	// load balancer, a task or database with a public IP).
	public bool
	// ports it answers on, when fewer than its groups allow (a load
	// balancer answers only on its listeners' ports); nil: every port.
	ports []int
}

type analysis struct {
	vpc netip.Prefix
	nat bool
	// natPorts are what a NAT instance forwards; nil with a NAT gateway,
	// which forwards everything.
	natPorts []permission
	members  map[string][]member // by security group id
	ingress  map[string][]permission
	egress   map[string][]permission
}

// AnalyzeReachability computes, from the resources a plan registers (the
// security groups and their rules, what sits in each group, the load
// balancer's scheme and listeners, the VPC's NAT and endpoints), every flow
// AWS would allow. Nothing is read from the stack file: the report shows
// what the resources enforce.
//
// A flow inside the VPC needs the source's group to allow it out and the
// destination's group to allow it in, each by group or by an address range
// that covers the VPC. A flow from outside needs a public destination and
// an ingress range outside the VPC; a flow out of the VPC needs a NAT
// gateway, and is shown as going to aws-apis, as is every flow to an
// interface endpoint.
func AnalyzeReachability(resources []Resource) (*Reachability, error) {
	a := &analysis{members: map[string][]member{}, ingress: map[string][]permission{}, egress: map[string][]permission{}}
	if err := a.network(resources); err != nil {
		return nil, err
	}
	if err := a.rules(resources); err != nil {
		return nil, err
	}
	a.membership(resources)
	return &Reachability{Flows: a.flows()}, nil
}

func (a *analysis) network(resources []Resource) error {
	vpcs := OfType(resources, typeVpc)
	if len(vpcs) != 1 {
		return fmt.Errorf("reachability: the plan has %d VPCs, expected one", len(vpcs))
	}
	cidr, err := netip.ParsePrefix(vpcs[0].String("cidrBlock"))
	if err != nil {
		return fmt.Errorf("reachability: the VPC's cidrBlock: %w", err)
	}
	a.vpc = cidr.Masked()
	strategy := vpcs[0].String("natGateways.strategy")
	a.nat = strategy != "" && strategy != "None"
	if !a.nat {
		return a.natInstance(resources)
	}
	return nil
}

// natInstance finds NAT done by an instance rather than a gateway: an
// instance that forwards (source/destination check off) which route
// tables send traffic leaving the VPC to. What it forwards is what its
// groups let in and out again to outside the VPC.
func (a *analysis) natInstance(resources []Resource) error {
	routed := false
	for _, r := range OfType(resources, "aws:ec2/route:Route") {
		dst, err := netip.ParsePrefix(r.String("destinationCidrBlock"))
		if err == nil && r.String("networkInterfaceId") != "" && !a.vpc.Contains(dst.Addr()) {
			routed = true
		}
	}
	if !routed {
		return nil
	}
	for _, instance := range OfType(resources, "aws:ec2/instance:Instance") {
		if _, set := instance.Inputs["sourceDestCheck"]; !set || instance.Bool("sourceDestCheck") {
			continue
		}
		groups := instance.Strings("vpcSecurityGroupIds")
		in := map[string]bool{}
		for _, g := range groups {
			in[g] = true
		}
		var ins, outs []permission
		for _, typ := range []string{typeIngressRule, typeEgressRule} {
			for _, r := range OfType(resources, typ) {
				if !in[r.String("securityGroupId")] {
					continue
				}
				p, err := a.permission(r)
				if err != nil {
					return err
				}
				if typ == typeIngressRule && p.cidr.IsValid() && a.vpc.Contains(p.cidr.Addr()) {
					ins = append(ins, p)
				}
				if typ == typeEgressRule && p.cidr.IsValid() && !a.within(p.cidr) {
					outs = append(outs, p)
				}
			}
		}
		for _, i := range ins {
			for _, o := range outs {
				if i.protocol == o.protocol || o.protocol == "all" {
					a.nat = true
					a.natPorts = append(a.natPorts, permission{
						protocol: i.protocol, fromPort: max(i.fromPort, o.fromPort), toPort: min(i.toPort, o.toPort),
					})
				}
			}
		}
	}
	return nil
}

// throughNAT reports whether NAT forwards a flow leaving the VPC: a
// gateway forwards everything, an instance what its groups allow.
func (a *analysis) throughNAT(p permission) bool {
	if !a.nat {
		return false
	}
	if a.natPorts == nil {
		return true
	}
	for _, n := range a.natPorts {
		if (n.protocol == p.protocol || n.protocol == "all") && n.fromPort <= p.fromPort && p.toPort <= n.toPort {
			return true
		}
	}
	return false
}

func (a *analysis) rules(resources []Resource) error {
	for _, typ := range []string{typeIngressRule, typeEgressRule} {
		for _, r := range OfType(resources, typ) {
			p, err := a.permission(r)
			if err != nil {
				return err
			}
			group := r.String("securityGroupId")
			if typ == typeIngressRule {
				a.ingress[group] = append(a.ingress[group], p)
			} else {
				a.egress[group] = append(a.egress[group], p)
			}
		}
	}
	// Rules written inside a group's own arguments count the same.
	for _, sg := range OfType(resources, typeSecurityGroup) {
		for _, direction := range []string{"ingress", "egress"} {
			for i := range sg.Count(direction) {
				inline, err := inlineRules(sg, fmt.Sprintf("%s.%d", direction, i))
				if err != nil {
					return err
				}
				if direction == "ingress" {
					a.ingress[sg.ID] = append(a.ingress[sg.ID], inline...)
				} else {
					a.egress[sg.ID] = append(a.egress[sg.ID], inline...)
				}
			}
		}
	}
	return nil
}

func (a *analysis) permission(r Resource) (permission, error) {
	p := permission{protocol: protocol(r.String("ipProtocol")), fromPort: int(r.Number("fromPort")), toPort: int(r.Number("toPort"))}
	if p.protocol == "all" {
		p.fromPort, p.toPort = 0, 65535
	}
	p.peerGroup = r.String("referencedSecurityGroupId")
	if cidr := r.String("cidrIpv4"); cidr != "" {
		prefix, err := netip.ParsePrefix(cidr)
		if err != nil {
			return p, fmt.Errorf("reachability: %s: cidrIpv4 %q: %w", r.Name, cidr, err)
		}
		p.cidr = prefix.Masked()
	}
	if p.peerGroup == "" && !p.cidr.IsValid() {
		// An IPv6 range or a prefix list: nothing this analysis models,
		// so it refuses rather than leave a flow out.
		return p, fmt.Errorf("reachability: %s names neither a security group nor an IPv4 range", r.Name)
	}
	return p, nil
}

func inlineRules(sg Resource, path string) ([]permission, error) {
	base := permission{protocol: protocol(sg.String(path + ".protocol")), fromPort: int(sg.Number(path + ".fromPort")), toPort: int(sg.Number(path + ".toPort"))}
	if base.protocol == "all" {
		base.fromPort, base.toPort = 0, 65535
	}
	var out []permission
	for _, group := range sg.Strings(path + ".securityGroups") {
		p := base
		p.peerGroup = group
		out = append(out, p)
	}
	if sg.Bool(path + ".self") {
		p := base
		p.peerGroup = sg.ID
		out = append(out, p)
	}
	for _, cidr := range sg.Strings(path + ".cidrBlocks") {
		prefix, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil, fmt.Errorf("reachability: %s: %s: %w", sg.Name, path, err)
		}
		p := base
		p.cidr = prefix.Masked()
		out = append(out, p)
	}
	return out, nil
}

func protocol(p string) string {
	switch strings.ToLower(p) {
	case "-1", "all", "":
		return "all"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	}
	return strings.ToLower(p)
}

// membership finds what sits in each security group.
func (a *analysis) membership(resources []Resource) {
	add := func(groups []string, m member) {
		for _, g := range groups {
			a.members[g] = append(a.members[g], m)
		}
	}
	var listenerPorts []int
	for _, l := range OfType(resources, typeListener) {
		listenerPorts = append(listenerPorts, int(l.Number("port")))
	}
	slices.Sort(listenerPorts)
	listenerPorts = slices.Compact(listenerPorts)
	if listenerPorts == nil {
		listenerPorts = []int{}
	}
	for _, lb := range OfType(resources, typeLoadBalancer) {
		add(lb.Strings("securityGroups"), member{name: NodeLoadBalancer, public: !lb.Bool("internal"), ports: listenerPorts})
	}
	for _, svc := range OfType(resources, typeECSService) {
		add(svc.Strings("networkConfiguration.securityGroups"),
			member{name: "service:" + svc.String("name"), public: svc.Bool("networkConfiguration.assignPublicIp")})
	}
	for _, target := range OfType(resources, typeEventTarget) {
		add(target.Strings("ecsTarget.networkConfiguration.securityGroups"),
			member{name: "service:" + target.Name, public: target.Bool("ecsTarget.networkConfiguration.assignPublicIp")})
	}
	project, stack := projectAndStack(resources)
	for _, db := range OfType(resources, typeRDSInstance) {
		add(db.Strings("vpcSecurityGroupIds"), member{name: databaseName(db, project+"-"+stack), public: db.Bool("publiclyAccessible")})
	}
	// The stack's cache, whichever its mode: nodes or serverless.
	for _, cache := range append(OfType(resources, typeReplication), OfType(resources, typeServerless)...) {
		add(cache.Strings("securityGroupIds"), member{name: NodeCache})
	}
	// The tenant provisioner is the platform's one function in the VPC; any
	// other shows under its own name, so it is never mistaken for it.
	for _, fn := range OfType(resources, typeFunction) {
		name := "function:" + fn.Name
		if strings.Contains(fn.Name, "provisioner") {
			name = NodeProvisioner
		}
		add(fn.Strings("vpcConfig.securityGroupIds"), member{name: name})
	}
	for _, ep := range OfType(resources, typeEndpoint) {
		add(ep.Strings("securityGroupIds"), member{name: NodeAWSAPIs})
	}
}

// databaseName names an instance: a silo tenant's by its TenantId tag, a
// pool (database.pools) by its Pool tag, the shared one by the stack's
// identifier.
func databaseName(db Resource, identifier string) string {
	if tenant := db.String("tags.TenantId"); tenant != "" {
		return "database:" + tenant
	}
	if pool := db.String("tags.Pool"); pool != "" {
		return "database:" + pool
	}
	id := db.String("identifier")
	if rest, ok := strings.CutPrefix(id, identifier+"-"); ok && rest != "" {
		return "database:" + rest
	}
	if id == identifier {
		return NodeSharedDatabase
	}
	return "database:" + db.Name
}

// projectAndStack reads the project and stack from a resource's URN:
// urn:pulumi:<stack>::<project>::...
func projectAndStack(resources []Resource) (string, string) {
	for _, r := range resources {
		parts := strings.Split(strings.TrimPrefix(r.URN, "urn:pulumi:"), "::")
		if len(parts) >= 2 {
			return parts[1], parts[0]
		}
	}
	return "", ""
}

type flowKey struct {
	from, to, protocol string
	fromPort, toPort   int
}

func (a *analysis) flows() []Flow {
	found := map[flowKey]*Flow{}
	add := func(from, to string, p permission, source string) {
		k := flowKey{from, to, p.protocol, p.fromPort, p.toPort}
		f, ok := found[k]
		if !ok {
			f = &Flow{From: from, To: to, Protocol: p.protocol, FromPort: p.fromPort, ToPort: p.toPort}
			found[k] = f
		}
		if source != "" && !slices.Contains(f.Sources, source) {
			f.Sources = append(f.Sources, source)
		}
	}

	groups := slices.Sorted(func(yield func(string) bool) {
		for g := range a.members {
			if !yield(g) {
				return
			}
		}
	})
	for _, src := range groups {
		for _, out := range a.egress[src] {
			// Inside the VPC: to every group the rule reaches whose own
			// ingress admits the source.
			for _, dst := range groups {
				if !(out.peerGroup == dst || (out.peerGroup == "" && out.cidr.Overlaps(a.vpc))) {
					continue
				}
				for _, in := range a.ingress[dst] {
					if !(in.peerGroup == src || (in.peerGroup == "" && in.cidr.Overlaps(a.vpc))) {
						continue
					}
					p, ok := intersect(out, in)
					if !ok {
						continue
					}
					for _, from := range a.members[src] {
						for _, to := range a.members[dst] {
							for _, q := range answers(p, to) {
								add(from.name, to.name, q, "")
							}
						}
					}
				}
			}
			// Out of the VPC, through NAT (or a public address).
			if out.peerGroup == "" && !a.within(out.cidr) {
				for _, from := range a.members[src] {
					if a.throughNAT(out) || from.public {
						add(from.name, NodeAWSAPIs, out, "")
					}
				}
			}
		}
		// Into the VPC from outside: only to what has a public address,
		// or, for an internal load balancer, from the networks it admits.
		for _, in := range a.ingress[src] {
			if in.peerGroup != "" || a.within(in.cidr) {
				continue
			}
			for _, to := range a.members[src] {
				from := NodeInternet
				if !to.public {
					if to.name != NodeLoadBalancer {
						continue
					}
					from = NodePeered
				}
				for _, q := range answers(in, to) {
					add(from, to.name, q, in.cidr.String())
				}
			}
		}
	}

	out := make([]Flow, 0, len(found))
	for _, f := range found {
		sort.Strings(f.Sources)
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		if a.FromPort != b.FromPort {
			return a.FromPort < b.FromPort
		}
		if a.ToPort != b.ToPort {
			return a.ToPort < b.ToPort
		}
		return a.Protocol < b.Protocol
	})
	return out
}

// within reports whether a range lies wholly inside the VPC.
func (a *analysis) within(cidr netip.Prefix) bool {
	return cidr.Bits() >= a.vpc.Bits() && a.vpc.Contains(cidr.Addr())
}

// intersect is what both rules allow: one protocol and the ports in both
// ranges.
func intersect(x, y permission) (permission, bool) {
	p := x
	switch {
	case x.protocol == y.protocol, y.protocol == "all":
	case x.protocol == "all":
		p.protocol = y.protocol
	default:
		return p, false
	}
	p.fromPort, p.toPort = max(x.fromPort, y.fromPort), min(x.toPort, y.toPort)
	return p, p.fromPort <= p.toPort
}

// answers narrows a permission to the ports the member answers on: a load
// balancer answers only on its listeners' ports, each a flow of its own.
func answers(p permission, m member) []permission {
	if m.ports == nil {
		return []permission{p}
	}
	var out []permission
	for _, port := range m.ports {
		if port >= p.fromPort && port <= p.toPort && (p.protocol == "tcp" || p.protocol == "all") {
			q := p
			q.protocol, q.fromPort, q.toPort = "tcp", port, port
			out = append(out, q)
		}
	}
	return out
}

// WriteJSON writes {"flows": [...]}.
func (r *Reachability) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes one line per flow, with the ranges a flow from outside
// comes from.
func (r *Reachability) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FROM\tTO\tPROTOCOL\tPORT\tSOURCE RANGES")
	for _, f := range r.Flows {
		sources := "-"
		if len(f.Sources) > 0 {
			sources = strings.Join(f.Sources, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.From, f.To, f.Protocol, f.Ports(), sources)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d allowed flows\n", len(r.Flows))
	return err
}
