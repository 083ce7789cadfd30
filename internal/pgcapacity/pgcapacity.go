// Package pgcapacity is the capacity rule of a PostgreSQL instance that
// holds pool tenants: how many connections and databases the tenants on it
// may have, from the instance class, and which instance a new tenant goes
// to. It is one rule shared by the config validator, the tenants command and
// the onboarding API, so it imports neither Pulumi nor the AWS SDK.
package pgcapacity

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// RDS's default max_connections for PostgreSQL is
// LEAST(DBInstanceClassMemory/9531392, 5000).
const (
	bytesPerConnection = 9531392
	maxConnectionsCap  = 5000
	gib                = 1 << 30
)

// Connections that tenants can never have, whatever the class.
const (
	// SuperuserReserved is PostgreSQL's superuser_reserved_connections
	// (default 3, which RDS keeps).
	SuperuserReserved = 3
	// RDSSuperuserReserved is RDS's rds.rds_superuser_reserved_connections
	// (default 2): slots only the master user's role may take.
	RDSSuperuserReserved = 2
	// ProvisionerReserve is for the master user beyond those slots: the
	// tenant provisioner opens one connection per concurrent invocation, and
	// Pulumi runs up to its default parallelism of 10 of them at once
	// during an up that adds many tenants.
	ProvisionerReserve = 10
)

// Reserved is every connection an instance keeps from its tenants and
// services.
const Reserved = SuperuserReserved + RDSSuperuserReserved + ProvisionerReserve

// MaxDatabasesPerInstance bounds the pool tenants of one instance, each a
// database. PostgreSQL sets no limit, but every database costs whether its
// tenant is active or not: the autovacuum launcher tries to start a worker
// in each database once per autovacuum_naptime (1 minute by default) with
// only autovacuum_max_workers (3) workers, and a worker connecting to a
// database and checking its catalog takes a fair part of a second, so past
// about a thousand databases autovacuum no longer visits every database
// once a minute even when none has work; every database is also a copy of
// template1 (about 7.5 MB of catalog), and a point-in-time restore of the
// instance restores all of its tenants together. A thousand keeps those
// costs bounded; more tenants go to more pools.
const MaxDatabasesPerInstance = 1000

// DefaultServiceConnections is what a task of a service that uses
// PostgreSQL is assumed to open when its databaseConnections is not given:
// the default pool size of node-postgres and of most Go and Java pools.
const DefaultServiceConnections = 10

// The connection overcommit ratio a stack may declare: 1 means every
// tenant's connection limit must fit at once. Above 10 the tenants'
// connection limits would say next to nothing about what the instance
// holds.
const (
	MinOvercommit = 1
	MaxOvercommit = 10
)

// classMemoryGiB is the memory of the RDS instance classes that can run
// PostgreSQL, by family and size. Burstable families are listed size by
// size; the others follow their family's memory per vCPU.
var classMemoryGiB = func() map[string]float64 {
	m := map[string]float64{}
	for _, family := range []string{"t3", "t4g"} {
		for size, mem := range map[string]float64{"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32} {
			m["db."+family+"."+size] = mem
		}
	}
	// vCPUs of each size of the non-burstable families.
	vcpus := map[string]float64{
		"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32,
		"12xlarge": 48, "16xlarge": 64, "24xlarge": 96, "32xlarge": 128, "48xlarge": 192,
	}
	// GiB of memory per vCPU, and the largest size, of each family.
	families := []struct {
		names   []string
		perVCPU float64
		largest float64
	}{
		{[]string{"m5", "m5d", "m6i", "m6id", "m6in", "m6idn", "m7i"}, 4, 96},
		{[]string{"m6g", "m6gd", "m7g", "m8g"}, 4, 64},
		{[]string{"r5", "r5d", "r6i", "r6id", "r6in", "r6idn", "r7i"}, 8, 96},
		{[]string{"r6g", "r6gd", "r7g", "r8g"}, 8, 64},
		{[]string{"x2g"}, 16, 64},
	}
	for _, f := range families {
		for _, name := range f.names {
			for size, n := range vcpus {
				if n <= f.largest {
					m["db."+name+"."+size] = n * f.perVCPU
				}
			}
		}
	}
	return m
}()

// ClassMemoryGiB is the memory of an RDS instance class.
func ClassMemoryGiB(class string) (float64, error) {
	mem, ok := classMemoryGiB[class]
	if !ok {
		return 0, fmt.Errorf("instance class %s is not in the capacity table (db.t3/t4g micro to 2xlarge, db.m5/m6i/m6g/m7g/m7i, "+
			"db.r5/r6i/r6g/r7g/r7i, db.x2g large and up): its default max_connections is unknown, so the pool tenants it can hold cannot be checked; "+
			"use a class from the table", class)
	}
	return mem, nil
}

// DefaultMaxConnections is RDS's default max_connections for the class:
// LEAST(DBInstanceClassMemory/9531392, 5000).
func DefaultMaxConnections(class string) (int, error) {
	mem, err := ClassMemoryGiB(class)
	if err != nil {
		return 0, err
	}
	return min(int(mem*gib/bytesPerConnection), maxConnectionsCap), nil
}

// Service is a service that opens its own connections to an instance.
type Service struct {
	Name               string
	ConnectionsPerTask int
	MaxTasks           int
}

// Connections is the most the service opens: per task, at its maximum task
// count.
func (s Service) Connections() int { return s.ConnectionsPerTask * s.MaxTasks }

// Tenant is a pool tenant: a database and a login role with a connection
// limit.
type Tenant struct {
	ID              string
	ConnectionLimit int
}

// Instance is a PostgreSQL instance that holds pool tenants.
type Instance struct {
	// Name is the pool's name ("shared" for the shared instance).
	Name  string
	Class string
	// Services open connections of their own to this instance.
	Services []Service
	// Overcommit is the stack's connectionOvercommit; 0 means 1.
	Overcommit float64
	Tenants    []Tenant
}

// Load is an instance's capacity and what its tenants use of it.
type Load struct {
	Instance string
	Class    string

	MaxConnections     int // RDS's default for the class
	Reserved           int // PostgreSQL's, RDS's and the provisioner's
	ServiceConnections int // what the services may open
	Services           []Service
	Overcommit         float64 // the ratio applied to what is left
	ConnectionsAllowed int     // for the tenants together
	ConnectionsUsed    int     // the sum of the tenants' connection limits

	DatabasesAllowed int
	DatabasesUsed    int

	Tenants []Tenant
}

// Measure computes an instance's load. It fails only for a class outside
// the table.
func Measure(inst Instance) (Load, error) {
	maxConns, err := DefaultMaxConnections(inst.Class)
	if err != nil {
		return Load{}, err
	}
	overcommit := inst.Overcommit
	if overcommit == 0 {
		overcommit = 1
	}
	l := Load{
		Instance: inst.Name, Class: inst.Class,
		MaxConnections: maxConns, Reserved: Reserved, Overcommit: overcommit,
		Services: inst.Services, DatabasesAllowed: MaxDatabasesPerInstance,
		Tenants: inst.Tenants, DatabasesUsed: len(inst.Tenants),
	}
	for _, s := range inst.Services {
		l.ServiceConnections += s.Connections()
	}
	left := max(maxConns-l.Reserved-l.ServiceConnections, 0)
	l.ConnectionsAllowed = int(math.Floor(float64(left) * overcommit))
	for _, t := range inst.Tenants {
		l.ConnectionsUsed += t.ConnectionLimit
	}
	return l, nil
}

// ConnectionRoom is how many more connections tenants may be given.
func (l Load) ConnectionRoom() int { return l.ConnectionsAllowed - l.ConnectionsUsed }

// DatabaseRoom is how many more tenants the instance may take.
func (l Load) DatabaseRoom() int { return l.DatabasesAllowed - l.DatabasesUsed }

// Fits reports whether a tenant with the given connection limit would fit.
func (l Load) Fits(connectionLimit int) bool {
	return l.DatabaseRoom() >= 1 && l.ConnectionRoom() >= connectionLimit
}

// With is the load once a tenant is added.
func (l Load) With(t Tenant) Load {
	l.Tenants = append(append([]Tenant(nil), l.Tenants...), t)
	l.ConnectionsUsed += t.ConnectionLimit
	l.DatabasesUsed++
	return l
}

// Problems says, one sentence each, which bound the tenants exceed, with
// the numbers: used, allowed and how the allowance is made, by which
// tenants, and what to do. Empty when they fit.
func (l Load) Problems() []string {
	var out []string
	if l.ConnectionsUsed > l.ConnectionsAllowed {
		out = append(out, fmt.Sprintf(
			"its %d pool tenants may open %d connections, %d more than the %d allowed: %s; the tenants: %s. "+
				"Put new tenants on another pool (declare one in database.pools and give them pool: <name>), "+
				"use a larger instanceClass, lower the services' databaseConnections, or set database.connectionOvercommit "+
				"(%d to %d) if the tenants never open all their connections at once",
			l.DatabasesUsed, l.ConnectionsUsed, l.ConnectionsUsed-l.ConnectionsAllowed, l.ConnectionsAllowed, l.Arithmetic(),
			tenantList(l.Tenants, true), MinOvercommit, MaxOvercommit))
	}
	if l.DatabasesUsed > l.DatabasesAllowed {
		out = append(out, fmt.Sprintf(
			"it would hold %d pool tenants' databases, %d more than the %d allowed per instance (beyond that autovacuum cannot visit "+
				"every database each minute, and a restore takes all of them together); the tenants past the bound: %s. "+
				"Declare another pool in database.pools and give new tenants pool: <name>",
			l.DatabasesUsed, l.DatabasesUsed-l.DatabasesAllowed, l.DatabasesAllowed, tenantList(l.Tenants[l.DatabasesAllowed:], false)))
	}
	return out
}

// Arithmetic shows how ConnectionsAllowed is made.
func (l Load) Arithmetic() string {
	services := "no service opens its own connections"
	if len(l.Services) > 0 {
		parts := make([]string, len(l.Services))
		for i, s := range l.Services {
			parts[i] = fmt.Sprintf("%s %d x %d tasks", s.Name, s.ConnectionsPerTask, s.MaxTasks)
		}
		services = fmt.Sprintf("%d for services (%s)", l.ServiceConnections, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("max_connections %d (RDS's default for %s) - %d reserved (PostgreSQL %d, RDS %d, provisioner %d) - %s, x overcommit %s",
		l.MaxConnections, l.Class, l.Reserved, SuperuserReserved, RDSSuperuserReserved, ProvisionerReserve, services,
		formatRatio(l.Overcommit))
}

func formatRatio(r float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", r), "0"), ".")
}

// tenantList names tenants, the largest connection limits first when
// byConnections, at most a dozen.
func tenantList(tenants []Tenant, byConnections bool) string {
	sorted := append([]Tenant(nil), tenants...)
	if byConnections {
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ConnectionLimit > sorted[j].ConnectionLimit })
	}
	const shown = 12
	var parts []string
	for i, t := range sorted {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(sorted)-shown))
			break
		}
		if byConnections {
			parts = append(parts, fmt.Sprintf("%s (%d)", t.ID, t.ConnectionLimit))
		} else {
			parts = append(parts, t.ID)
		}
	}
	return strings.Join(parts, ", ")
}

// Place chooses the instance a new tenant goes to: the one with the most
// connection room among those it fits (the most database room, then the
// first listed, breaking ties). With none, the error says which bound each
// instance reached and what to add.
func Place(loads []Load, t Tenant) (string, error) {
	best := -1
	for i, l := range loads {
		if !l.Fits(t.ConnectionLimit) {
			continue
		}
		if best < 0 || l.ConnectionRoom() > loads[best].ConnectionRoom() ||
			(l.ConnectionRoom() == loads[best].ConnectionRoom() && l.DatabaseRoom() > loads[best].DatabaseRoom()) {
			best = i
		}
	}
	if best >= 0 {
		return loads[best].Instance, nil
	}
	if len(loads) == 0 {
		return "", fmt.Errorf("no instance holds pool tenants: tenant %s has nowhere to go", t.ID)
	}
	var full []string
	for _, l := range loads {
		full = append(full, fmt.Sprintf("%s (%s: %d of %d connections, %d of %d databases)",
			l.Instance, l.Class, l.ConnectionsUsed, l.ConnectionsAllowed, l.DatabasesUsed, l.DatabasesAllowed))
	}
	return "", fmt.Errorf("no pool has room for tenant %s (%d connections): %s. Add a pool to database.pools, such as "+
		"{name: <new pool>, instanceClass: %s}, and place the tenant again", t.ID, t.ConnectionLimit, strings.Join(full, "; "),
		loads[len(loads)-1].Class)
}
