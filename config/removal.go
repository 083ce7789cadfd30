package config

import (
	"fmt"
	"sort"
)

// RemovalNotice says what deploying the stack without a tenant's entry does
// to the tenant's data. It depends on what the last deployment of the
// tenant said, not on the entry being removed: isolation and onRemove as
// deployed, and whether the environment protects its data
// (dataProtection.protect). The tenants command and the plan print this
// one notice, so that the two never disagree about a deletion.
//
// What the program does, by case: a pool tenant's database is dropped only
// when onRemove: drop was deployed, else its login is disabled; a silo
// tenant's instance, in a protected environment, is protected and retained
// unless drop was deployed (then it is deleted with a final snapshot); in
// an unprotected environment it is deleted without a final snapshot,
// whatever onRemove says.
func RemovalNotice(id string, isolation Isolation, onRemove string, protect bool) string {
	drop := onRemove == OnRemoveDrop
	switch {
	case isolation == Pool && !drop:
		return fmt.Sprintf("Tenant %s's data is kept: its database stays in its PostgreSQL instance, its login is disabled and its sessions closed. "+
			"Adding %s again brings it back.", id, id)
	case isolation == Pool:
		return fmt.Sprintf("WARNING: tenant %s's data is deleted: deploying this drops its database and login role and deletes its secret (onRemove: drop).", id)
	case !protect:
		return fmt.Sprintf("WARNING: tenant %s's data is deleted: this environment does not protect its data (dataProtection.protect is off), "+
			"so deploying this deletes its instance without a final snapshot, whatever onRemove says. Snapshot it first to keep a copy.", id)
	case !drop:
		return fmt.Sprintf("Tenant %s's data is kept: its instance is protected, so pulumi up stops with \"resource is protected\" until "+
			"pulumi state unprotect is run on it; then it leaves the stack but keeps running, with deletion protection on.", id)
	default:
		return fmt.Sprintf("WARNING: tenant %s's instance is deleted (onRemove: drop): it leaves a final snapshot, and its AWS Backup recovery points "+
			"stay until they expire.", id)
	}
}

// RemovalNotices are the notices of every tenant the previous deployment
// has and the stack no longer lists, sorted by id.
func RemovalNotices(s *Stack, previous *Deployed) []string {
	if previous == nil {
		return nil
	}
	listed := map[string]bool{}
	for _, t := range s.Tenants {
		listed[t.ID] = true
	}
	var notices []string
	for _, id := range sortedTenantIDs(previous.Tenants) {
		if d := previous.Tenants[id]; !listed[id] {
			notices = append(notices, RemovalNotice(id, d.Isolation, d.OnRemove, s.DataProtection.Protect))
		}
	}
	return notices
}

func sortedTenantIDs(m map[string]DeployedTenant) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
