package onboarding

import (
	"fmt"
	"sort"

	"github.com/saas-platform/saas-platform/internal/pgcapacity"
	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// StackRules are the stack file's rules: the tenant naming rule
// (internal/tenantid) and the pool capacity rule with its placement
// (internal/pgcapacity), the very functions the program's validation and
// the tenants command call.
func StackRules() Rules {
	return Rules{TenantID: checkID, Place: place}
}

func checkID(id string, maxLength int) error {
	if err := tenantid.Check(id); err != nil {
		return err
	}
	if maxLength > 0 && len(id) > maxLength {
		return fmt.Errorf("is %d characters: at most %d fit in this stack's tenant names", len(id), maxLength)
	}
	return nil
}

// place measures every pool as the capacity rule does, with the run-time
// tenants' share added to the stack file's, and lets the rule choose.
func place(id string, needs Usage, pools map[string]Pool, used map[string]Usage) (string, Usage, error) {
	names := make([]string, 0, len(pools))
	for name := range pools {
		names = append(names, name)
	}
	sort.Strings(names)
	loads := make([]pgcapacity.Load, 0, len(names))
	for _, name := range names {
		p, u := pools[name], used[name]
		loads = append(loads, pgcapacity.Load{
			Instance: name, Class: p.Class,
			ConnectionsAllowed: p.Connections, ConnectionsUsed: p.StackConnections + u.Connections,
			DatabasesAllowed: p.Databases, DatabasesUsed: p.StackDatabases + u.Databases,
		})
	}
	pool, err := pgcapacity.Place(loads, pgcapacity.Tenant{ID: id, ConnectionLimit: needs.Connections})
	if err != nil {
		return "", Usage{}, &NoRoomError{Reason: err.Error()}
	}
	// The pool's whole allowance for run-time tenants, not what is left of
	// it now: the registry's conditional write checks the counter against
	// it atomically, whatever others took since.
	return pool, pools[pool].Room(Usage{}), nil
}
