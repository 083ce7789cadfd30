package config

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Deployed is what the previous deployment of the stack recorded in its
// outputs: enough to refuse changes that AWS cannot make in place.
type Deployed struct {
	Tenants          map[string]DeployedTenant
	CacheClusterMode *bool // nil: no cache deployed yet
	// CacheMode is the deployed cache's mode (nodes or serverless); a
	// deployment from before modes recorded none, and ran nodes.
	CacheMode string
}

// DeployedTenant is a tenant as the previous deployment left it.
type DeployedTenant struct {
	Plan             string
	Isolation        Isolation
	AllocatedStorage int // GiB of the dedicated instance; 0 for pool tenants
	// OnRemove is what the deployment would do with the data if the entry
	// were removed; empty when the deployment predates the output.
	OnRemove string
	// Pool is the instance a pool tenant's database is in; empty for silo
	// tenants, and SharedPool for deployments from before pools.
	Pool string
	// Facts says who made a pool tenant's secret and parameters:
	// "provisioner", or empty when the deployment made them as stack
	// resources.
	Facts string
}

// DeployedFrom reads the previous deployment from its stack outputs: the
// tenants map, the cache's cluster mode and its mode, each nil when not
// deployed (or, for the mode, deployed before modes existed).
func DeployedFrom(tenants, cacheClusterMode, cacheMode any) (*Deployed, error) {
	deployed := &Deployed{Tenants: map[string]DeployedTenant{}}
	if tenants != nil {
		raw, err := json.Marshal(tenants)
		if err != nil {
			return nil, err
		}
		var recorded map[string]struct {
			Plan             string `json:"plan"`
			Isolation        string `json:"isolation"`
			AllocatedStorage int    `json:"allocatedStorage"`
			OnRemove         string `json:"onRemove"`
			Pool             string `json:"pool"`
			Facts            string `json:"facts"`
		}
		if err := json.Unmarshal(raw, &recorded); err != nil {
			// encoding/json's message names Go types: say what is expected.
			return nil, fmt.Errorf("the previous deployment's tenants output is not a tenant map: " +
				"expected an object of tenant ids to {plan, isolation, allocatedStorage, onRemove, pool, facts}")
		}
		for id, t := range recorded {
			pool := t.Pool
			if pool == "" && Isolation(t.Isolation) == Pool {
				// Deployed before pools: every pool tenant was in the shared instance.
				pool = SharedPool
			}
			deployed.Tenants[id] = DeployedTenant{
				Plan: t.Plan, Isolation: Isolation(t.Isolation), AllocatedStorage: t.AllocatedStorage, OnRemove: t.OnRemove, Pool: pool,
				Facts: t.Facts,
			}
		}
	}
	if mode, ok := cacheClusterMode.(bool); ok {
		deployed.CacheClusterMode = &mode
		deployed.CacheMode = CacheModeNodes
		if m, ok := cacheMode.(string); ok && m != "" {
			deployed.CacheMode = m
		}
	}
	return deployed, nil
}

// CheckTransitions compares the stack with its previous deployment and
// reports, as config problems, the changes that would replace data instead
// of modifying it: a tenant moving between pool and silo or from one pool
// to another, a silo instance asked to shrink its storage, and Redis
// cluster mode switched either way.
//
// Silo storage autoscales, and the program leaves allocatedStorage to RDS
// after creation, so a plan's storage is where an instance starts, not what
// it has. Storage only ever grows, though: a deployed instance holds at
// least the storage its previous plan started with. A plan that starts
// smaller could not give any back (and, with its lower autoscaling limit,
// might sit below what the instance already holds), so it stays refused.
func CheckTransitions(s *Stack, previous *Deployed) error {
	if previous == nil {
		return nil
	}
	p := &parser{project: s.Project}
	for i, t := range s.Tenants {
		before, ok := previous.Tenants[t.ID]
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s[%d].plan", p.key(KeyTenants), i)
		switch {
		case before.Isolation != t.Plan.Isolation:
			p.problem(key, t.Plan.Name, fmt.Sprintf(
				"cannot replace %s for tenant %s: it is deployed as %s (%s) and %s is %s; the data cannot move in place. "+
					"Migrate instead: add the tenant under a new id on %s, copy the data (pg_dump | pg_restore), "+
					"point the application at the new id, then remove the old entry (its data is kept unless onRemove: drop)",
				before.Plan, t.ID, before.Plan, describe(before.Isolation), t.Plan.Name, describe(t.Plan.Isolation), t.Plan.Name))
		case t.Plan.Isolation == Pool && before.Pool != "" && before.Pool != t.Pool:
			// A new database in the other instance would start empty, and the
			// old one would be retired: placement never changes silently.
			p.problem(fmt.Sprintf("%s[%d].pool", p.key(KeyTenants), i), t.Pool, fmt.Sprintf(
				"cannot move tenant %s: its database is deployed in pool %s (instance %s), and a database cannot move between instances in place. "+
					"Keep pool: %s, or migrate: add the tenant under a new id with pool: %s, copy the data (pg_dump | pg_restore), "+
					"point the application at the new id, then remove the old entry (its data is kept unless onRemove: drop)",
				t.ID, before.Pool, PoolIdentifier(s.Project, s.Name, before.Pool), before.Pool, t.Pool))
		case t.Plan.Isolation == Silo && t.Database.AllocatedStorage < before.AllocatedStorage:
			p.problem(key, t.Plan.Name, fmt.Sprintf(
				"would shrink tenant %s's storage from %d to %d GiB, which RDS cannot do (storage only grows, by plan or by autoscaling); keep the plan, or migrate to a new instance",
				t.ID, before.AllocatedStorage, t.Database.AllocatedStorage))
		}
	}
	p.cacheTransition(s, previous)
	sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Key < p.problems[j].Key })
	return p.err()
}

func describe(i Isolation) string {
	if i == Silo {
		return "silo: a dedicated RDS instance"
	}
	return "pool: a database in the shared PostgreSQL"
}

// cacheTransition refuses a change ElastiCache can only make by replacing
// the cache (its mode, nodes or serverless: two different resources; or
// the cluster mode of a replication group), unless the stack file accepts
// the replacement for this deployment (cache.acceptReplacement: true) and
// the stack is not protected. acceptReplacement with nothing to replace is
// refused too, so that it never stays behind to let a later change through
// unseen: set it, deploy, remove it.
func (p *parser) cacheTransition(s *Stack, previous *Deployed) {
	c := s.Cache
	if previous.CacheClusterMode == nil {
		return // no cache deployed yet: nothing to replace
	}
	before := previous.CacheMode
	key, value, deployed, what, why := "", "", "", "", ""
	switch {
	case before != c.Mode:
		key, value, deployed = p.key(KeyCache)+".mode", c.Mode, "mode "+before
		what = "the deployed cache (deployed with mode " + before + ")"
		why = "a replication group and a serverless cache are different resources, so the change replaces the cache"
	case c.Mode == CacheModeNodes && *previous.CacheClusterMode != c.ClusterMode:
		key, value, deployed = p.key(KeyCache)+".clusterMode", fmt.Sprint(c.ClusterMode), fmt.Sprintf("clusterMode %t", *previous.CacheClusterMode)
		what = fmt.Sprintf("the deployed replication group (deployed with clusterMode %t)", *previous.CacheClusterMode)
		why = "ElastiCache replaces the cache"
	}
	switch {
	case key != "" && s.DataProtection.Protect:
		p.problem(key, value, fmt.Sprintf(
			"cannot change on %s of a protected stack: %s and the replacement would lose its data; create a new cache and migrate, or keep %s",
			what, why, deployed))
	case key != "" && !c.AcceptReplacement:
		p.problem(key, value, fmt.Sprintf(
			"cannot change on %s: %s, which empties it. To replace it, set %s.acceptReplacement: true for this deployment and remove it after; or keep %s",
			what, why, p.key(KeyCache), deployed))
	case key == "" && c.AcceptReplacement:
		p.problem(p.key(KeyCache)+".acceptReplacement", "true",
			"has nothing to accept: the deployed cache already runs with this mode and clusterMode; remove the key, so that a later replacement is accepted on purpose")
	}
}
