package config

import "sort"

// Isolation says where a tenant's data lives.
type Isolation string

const (
	// Pool tenants get a database and a login role inside the shared PostgreSQL.
	Pool Isolation = "pool"
	// Silo tenants get a dedicated RDS instance.
	Silo Isolation = "silo"
)

// Plan is what a tenant's plan buys: an isolation model and a size.
type Plan struct {
	Name      string
	Isolation Isolation
	// ConnectionLimit caps the pool tenant's login role.
	ConnectionLimit int
	// Database sizes the silo tenant's dedicated instance.
	Database SiloDatabase
}

// SiloDatabase sizes a dedicated tenant instance.
type SiloDatabase struct {
	InstanceClass       string
	AllocatedStorage    int // GiB
	MaxAllocatedStorage int // GiB storage autoscaling may grow it to; 0: no autoscaling
	MultiAz             bool
	BackupRetentionDays int
}

// plans is DESIGN.md's tenant plan table.
var plans = map[string]Plan{
	"free":  {Name: "free", Isolation: Pool, ConnectionLimit: 5},
	"basic": {Name: "basic", Isolation: Pool, ConnectionLimit: 20},
	"premium": {Name: "premium", Isolation: Silo, Database: SiloDatabase{
		InstanceClass: "db.t4g.medium", AllocatedStorage: 100, MaxAllocatedStorage: 500, MultiAz: false, BackupRetentionDays: 7,
	}},
	"enterprise": {Name: "enterprise", Isolation: Silo, Database: SiloDatabase{
		InstanceClass: "db.r6g.large", AllocatedStorage: 500, MaxAllocatedStorage: 2000, MultiAz: true, BackupRetentionDays: 14,
	}},
}

// LookupPlan returns the plan of a name.
func LookupPlan(name string) (Plan, bool) {
	plan, ok := plans[name]
	return plan, ok
}

// PlanNames lists the plans a tenant may be on, sorted.
func PlanNames() []string {
	names := make([]string, 0, len(plans))
	for name := range plans {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// siloDatabase applies a preset's cap to a plan's dedicated instance.
func (s SiloSizing) siloDatabase(plan Plan) SiloDatabase {
	db := plan.Database
	if plan.Isolation != Silo {
		return SiloDatabase{}
	}
	if s.InstanceClass != "" {
		db.InstanceClass = s.InstanceClass
	}
	if s.AllocatedStorage > 0 {
		db.AllocatedStorage = s.AllocatedStorage
	}
	if s.SingleAz {
		db.MultiAz = false
	}
	if s.MaxAllocatedStorage > 0 {
		db.MaxAllocatedStorage = min(db.MaxAllocatedStorage, s.MaxAllocatedStorage)
	}
	return db
}
