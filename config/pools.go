package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/saas-platform/saas-platform/internal/pgcapacity"
)

// maxServiceConnections bounds a service's databaseConnections per task:
// no instance class allows more than 5,000 connections in all.
const maxServiceConnections = 5000

// PoolIdentifier is the RDS instance identifier of a pool:
// <project>-<stack>-pool-<name>; the shared instance is <project>-<stack>.
func PoolIdentifier(project, stack, pool string) string {
	if pool == SharedPool {
		return project + "-" + stack
	}
	return project + "-" + stack + "-pool-" + pool
}

// PoolNames lists the instances pool tenants may live in: the shared one
// first, then database.pools in order.
func (s *Stack) PoolNames() []string {
	names := []string{SharedPool}
	for _, p := range s.Database.Pools {
		names = append(names, p.Name)
	}
	return names
}

// PoolClass is the instance class of a pool.
func (s *Stack) PoolClass(pool string) string {
	for _, p := range s.Database.Pools {
		if p.Name == pool && p.InstanceClass != "" {
			return p.InstanceClass
		}
	}
	return s.Database.InstanceClass
}

// PoolLoads measures every instance that holds pool tenants, in PoolNames
// order: its class's capacity, the services' connections (the shared
// instance only: services log in there; in a pool they use the tenants'
// own logins, which the tenants' connection limits already count) and
// the tenants placed on it.
func (s *Stack) PoolLoads() ([]pgcapacity.Load, error) {
	var loads []pgcapacity.Load
	for _, name := range s.PoolNames() {
		inst := pgcapacity.Instance{Name: name, Class: s.PoolClass(name), Overcommit: s.Database.ConnectionOvercommit}
		if name == SharedPool {
			for _, svc := range s.Services {
				if svc.UsesDatabase() {
					inst.Services = append(inst.Services, svc.DatabaseLoad())
				}
			}
		}
		for _, t := range s.Tenants {
			if t.Plan.Isolation == Pool && t.Pool == name {
				inst.Tenants = append(inst.Tenants, pgcapacity.Tenant{ID: t.ID, ConnectionLimit: t.Plan.ConnectionLimit})
			}
		}
		load, err := pgcapacity.Measure(inst)
		if err != nil {
			return nil, err
		}
		loads = append(loads, load)
	}
	return loads, nil
}

// pools checks database.connectionOvercommit and database.pools.
func (v *validator) pools() {
	d := v.stack.Database
	key := v.key(KeyDatabase)
	if d.ConnectionOvercommit < pgcapacity.MinOvercommit || d.ConnectionOvercommit > pgcapacity.MaxOvercommit {
		v.problem(key+".connectionOvercommit", strconv.FormatFloat(d.ConnectionOvercommit, 'g', -1, 64), fmt.Sprintf(
			"must be between %d (every tenant's connection limit fits at once) and %d", pgcapacity.MinOvercommit, pgcapacity.MaxOvercommit))
	}
	if _, err := pgcapacity.DefaultMaxConnections(d.InstanceClass); err != nil && rdsClass.MatchString(d.InstanceClass) {
		v.problem(key+".instanceClass", d.InstanceClass, err.Error())
	}
	// <project>-<stack>-pool-<name> is an RDS identifier: 63 characters.
	maxLen := maxIdentifierLength - len(PoolIdentifier(v.stack.Project, v.stack.Name, "x")) + 1
	seen := map[string]int{}
	for i := range d.Pools {
		p := &v.stack.Database.Pools[i]
		k := fmt.Sprintf("%s.pools[%d]", key, i)
		switch first, dup := seen[p.Name]; {
		case !dnsLabel.MatchString(p.Name) || strings.Contains(p.Name, "--") || len(p.Name) > maxLen:
			v.problem(k+".name", p.Name, fmt.Sprintf(
				"must be lowercase letters, digits and single hyphens, starting with a letter, at most %d characters: it names the instance %s",
				maxLen, PoolIdentifier(v.stack.Project, v.stack.Name, "<name>")))
		case p.Name == SharedPool:
			v.problem(k+".name", p.Name, "is the shared instance's name: give the pool another")
		case dup:
			v.problem(k+".name", p.Name, fmt.Sprintf("is already used by %s.pools[%d]: pool names must be unique", key, first))
		default:
			seen[p.Name] = i
		}
		if p.InstanceClass == "" {
			p.InstanceClass = d.InstanceClass
		} else if !rdsClass.MatchString(p.InstanceClass) {
			v.problem(k+".instanceClass", p.InstanceClass, "must be an RDS instance class such as db.r6g.large, or left out for database.instanceClass")
		} else if _, err := pgcapacity.DefaultMaxConnections(p.InstanceClass); err != nil {
			v.problem(k+".instanceClass", p.InstanceClass, err.Error())
		}
		if p.AllocatedStorage == 0 {
			p.AllocatedStorage = d.AllocatedStorage
		}
		v.storage(k+".allocatedStorage", p.AllocatedStorage)
		if p.MaxAllocatedStorage == 0 {
			p.MaxAllocatedStorage = max(d.MaxAllocatedStorage, 0)
			if p.MaxAllocatedStorage != 0 && p.MaxAllocatedStorage <= p.AllocatedStorage {
				p.MaxAllocatedStorage = 0
			}
		} else if p.MaxAllocatedStorage <= p.AllocatedStorage || p.MaxAllocatedStorage > 65536 {
			v.problem(k+".maxAllocatedStorage", strconv.Itoa(p.MaxAllocatedStorage), fmt.Sprintf(
				"must be more than the pool's allocatedStorage (%d) and at most 65536, or left out for database.maxAllocatedStorage", p.AllocatedStorage))
		}
	}
}

// databaseConnections checks a service's databaseConnections.
func (v *validator) databaseConnections(key string, s Service, given bool) {
	if !given {
		return
	}
	k := key + ".databaseConnections"
	switch {
	case s.DatabaseConnections < 1 || s.DatabaseConnections > maxServiceConnections:
		v.problem(k, strconv.Itoa(s.DatabaseConnections), fmt.Sprintf(
			"must be between 1 and %d: the connections each task opens to PostgreSQL (its pool size)", maxServiceConnections))
	case !s.UsesDatabase():
		v.problem(k, strconv.Itoa(s.DatabaseConnections),
			"has no effect: the service does not use PostgreSQL (no ${database.*} reference, and uses does not list database)")
	}
}

// tenantPool resolves a tenant's pool: the shared instance unless it names
// one of database.pools; silo tenants have none.
func (v *validator) tenantPool(key string, e tenantEntry, plan Plan) string {
	if plan.Isolation == Silo {
		if e.Pool != "" {
			v.problem(key+".pool", e.Pool, fmt.Sprintf(
				"is for pool tenants: plan %s gives the tenant a dedicated instance; leave pool out", plan.Name))
		}
		if id := PoolIdentifier(v.stack.Project, v.stack.Name, strings.TrimPrefix(e.ID, "pool-")); strings.HasPrefix(e.ID, "pool-") &&
			v.hasPool(strings.TrimPrefix(e.ID, "pool-")) {
			v.problem(key+".id", e.ID, fmt.Sprintf("would name its instance %s, which is a pool's: choose another id", id))
		}
		return ""
	}
	if e.Pool == "" {
		return SharedPool
	}
	if e.Pool != SharedPool && !v.hasPool(e.Pool) {
		v.problem(key+".pool", e.Pool, "is not a pool: one of "+strings.Join(v.stack.PoolNames(), ", ")+
			" (declare new pools in "+v.key(KeyDatabase)+".pools)")
	}
	return e.Pool
}

func (v *validator) hasPool(name string) bool {
	for _, p := range v.stack.Database.Pools {
		if p.Name == name {
			return true
		}
	}
	return false
}

// poolCapacity refuses pool tenants that do not fit the instance they are
// placed on, with the numbers.
func (v *validator) poolCapacity() {
	if len(v.problems) > 0 {
		// Classes, pools or tenants are already wrong: the numbers would
		// only repeat that.
		return
	}
	loads, err := v.stack.PoolLoads()
	if err != nil {
		v.problem(v.key(KeyDatabase)+".instanceClass", v.stack.Database.InstanceClass, err.Error())
		return
	}
	for i, l := range loads {
		key, what := v.key(KeyDatabase)+".instanceClass", "the shared instance"
		if i > 0 {
			key, what = fmt.Sprintf("%s.pools[%d].instanceClass", v.key(KeyDatabase), i-1), "pool "+l.Instance
		}
		for _, p := range l.Problems() {
			v.problem(key, l.Class, fmt.Sprintf("cannot hold the pool tenants placed on %s: %s", what, p))
		}
	}
}

// DatabaseLoad is what the service may open to the shared instance: the
// capacity rule counts it, and its login's connection limit enforces it.
func (s Service) DatabaseLoad() pgcapacity.Service {
	return pgcapacity.Service{Name: s.Name, ConnectionsPerTask: s.DatabaseConnections, MaxTasks: s.MaxTasks()}
}

// DatabaseLogins are the services that use the shared PostgreSQL, each
// with the connection limit of its own login.
func DatabaseLogins(services []Service) []pgcapacity.Service {
	var out []pgcapacity.Service
	for _, s := range services {
		if s.UsesDatabase() {
			out = append(out, s.DatabaseLoad())
		}
	}
	return out
}
