package config

import (
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Data stores a service may declare in `uses`, and the prefixes of the
// references that imply them.
const (
	StoreDatabase = "database" // the stack's PostgreSQL: the shared instance, silo tenants' instances, pools
	StoreCache    = "cache"    // the stack's Redis
)

// Stores are the values `uses` accepts.
var Stores = []string{StoreCache, StoreDatabase}

// The dependency graph of a stack's services is declared by the stack file
// and read only through the functions below: the security groups, the
// reachability tests, the per-service database logins and the database's
// connection budget all ask the same questions here, so they cannot
// disagree about who calls whom or who uses what.
//
// A service that declares nothing (no reference, no calls, no uses) calls
// no other service and uses neither PostgreSQL nor Redis: least privilege
// is the default, and the stack file says what each service needs.

// Callees are the services s calls, sorted, each once: those its
// environment or secrets reference (${services.<name>.url} or
// ${services.<name>.publicUrl}) and those it lists in `calls`.
func (s Service) Callees() []string {
	set := map[string]bool{}
	for _, ref := range s.references() {
		if rest, ok := strings.CutPrefix(ref, "services."); ok {
			if name, _, ok := strings.Cut(rest, "."); ok && name != "" {
				set[name] = true
			}
		}
	}
	for _, name := range s.Calls {
		set[name] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// UsesStore reports whether s uses a data store (StoreDatabase or
// StoreCache): it references ${database.*} / ${cache.*} in its environment
// or secrets, lists the store in `uses`, or (the database) migrates tenants.
func (s Service) UsesStore(store string) bool {
	if slices.Contains(s.Uses, store) {
		return true
	}
	// A migrate command runs in the service's group against every
	// tenant's database: the service reaches PostgreSQL.
	if store == StoreDatabase && s.Migrate != nil {
		return true
	}
	for _, ref := range s.references() {
		if strings.HasPrefix(ref, store+".") {
			return true
		}
	}
	return false
}

// UsesDatabase reports whether s uses PostgreSQL (see UsesStore).
func (s Service) UsesDatabase() bool { return s.UsesStore(StoreDatabase) }

// UsesCache reports whether s uses Redis (see UsesStore).
func (s Service) UsesCache() bool { return s.UsesStore(StoreCache) }

// Callers are the services that call the service named name, in
// stack-file order.
func Callers(services []Service, name string) []string {
	var out []string
	for _, s := range services {
		if slices.Contains(s.Callees(), name) {
			out = append(out, s.Name)
		}
	}
	return out
}

// ServicesUsing are the services that use a data store (StoreDatabase or
// StoreCache), in stack-file order, scheduled tasks included.
func ServicesUsing(services []Service, store string) []string {
	var out []string
	for _, s := range services {
		if s.UsesStore(store) {
			out = append(out, s.Name)
		}
	}
	return out
}

// references are the ${...} references of the service's environment and
// secrets. A secret's source is scanned whole, in its JSON form, so that
// every form a secret may take (references among them) counts.
func (s Service) references() []string {
	var refs []string
	for _, name := range slices.Sorted(maps.Keys(s.Environment)) {
		refs = append(refs, References(s.Environment[name])...)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Secrets)) {
		src := s.Secrets[name]
		b, err := json.Marshal(src)
		if err == nil {
			refs = append(refs, References(string(b))...)
		}
		// The string form (DATABASE_URL: ${database.url}) is not a JSON key.
		if src.Reference != "" {
			refs = append(refs, src.Reference)
		}
	}
	return refs
}

// MaxLoadBalancerSources bounds the ranges the load balancer admits: each
// is two ingress rules (80 and 443), and a security group holds at most 60
// inbound rules by default.
const MaxLoadBalancerSources = 30

// LoadBalancerSources are the address ranges the load balancer's security
// group admits: loadBalancer.allowedCidrs with the VPC's own range taken
// out. Nothing inside the VPC reaches the load balancer, so a call between
// services cannot pass it (or the WAF): services call each other at their
// private URLs. A range that contains the VPC, such as 0.0.0.0/0, becomes
// the ranges around it (16 for a /16 VPC). Ranges that are not IPv4 CIDRs
// are left out (validation refuses them).
func LoadBalancerSources(allowed []string, vpc string) []string {
	v, err := netip.ParsePrefix(vpc)
	if err != nil {
		return allowed
	}
	v = v.Masked()
	var out []string
	for _, cidr := range allowed {
		p, err := netip.ParsePrefix(cidr)
		if err != nil || !p.Addr().Is4() {
			continue
		}
		p = p.Masked()
		switch {
		case !p.Overlaps(v):
			out = append(out, p.String())
		case p.Bits() < v.Bits():
			// The siblings of the VPC's ancestors, from the widest down:
			// together with the VPC they cover p exactly.
			for bits := p.Bits() + 1; bits <= v.Bits(); bits++ {
				ancestor, _ := v.Addr().Prefix(bits)
				out = append(out, sibling(ancestor).String())
			}
		}
		// A range inside the VPC admits nothing: validation refuses it.
	}
	return out
}

// sibling is the other half of p's parent.
func sibling(p netip.Prefix) netip.Prefix {
	a := p.Addr().As4()
	bit := p.Bits() - 1
	a[bit/8] ^= 0x80 >> (bit % 8)
	return netip.PrefixFrom(netip.AddrFrom4(a), p.Bits())
}
