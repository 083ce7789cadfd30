package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/config"
)

// poolTenants writes n tenants on plan, named prefix-<i>, on pool (none
// when empty), as the stack file's tenants list.
func poolTenants(prefix, plan, pool string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"id":"%s-%d","plan":"%s"`, prefix, i, plan)
		if pool != "" {
			out[i] += `,"pool":"` + pool + `"`
		}
		out[i] += "}"
	}
	return out
}

func list(groups ...[]string) string {
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	return "[" + strings.Join(all, ",") + "]"
}

func problems(t *testing.T, err error) []config.Problem {
	t.Helper()
	var cfgErr *config.Error
	require.True(t, errors.As(err, &cfgErr), "a *config.Error, got %v", err)
	return cfgErr.Problems
}

// oneProblem is the only problem err reports; a refusal that reports more
// (or another kind of error) fails the test.
func oneProblem(t *testing.T, err error) config.Problem {
	t.Helper()
	require.Error(t, err)
	ps := problems(t, err)
	require.Len(t, ps, 1, "exactly one problem expected, got: %v", err)
	return ps[0]
}

func TestInvalidPoolSettingsAreRejectedWithTheKeyTheValueAndWhatIsAllowed(t *testing.T) {
	db := "saas-platform:database"
	svc := `[{"name":"api","port":3000,"environment":{"DB":"${database.host}"},"databaseConnections":%d}]`
	cases := []struct {
		name    string
		values  map[string]string
		key     string
		value   string
		allowed string
	}{
		{"an overcommit below 1", map[string]string{db: `{"connectionOvercommit":0.5}`},
			db + ".connectionOvercommit", "0.5", "between 1"},
		{"an overcommit above 10", map[string]string{db: `{"connectionOvercommit":11}`},
			db + ".connectionOvercommit", "11", "and 10"},
		{"a shared class outside the capacity table", map[string]string{db: `{"instanceClass":"db.z9.huge"}`},
			db + ".instanceClass", "db.z9.huge", "db.z9.huge is not in the capacity table"},
		{"a pool class outside the capacity table", map[string]string{db: `{"pools":[{"name":"a","instanceClass":"db.r6g.huge"}]}`},
			db + ".pools[0].instanceClass", "db.r6g.huge", "not in the capacity table"},
		{"a pool named like the shared instance", map[string]string{db: `{"pools":[{"name":"shared"}]}`},
			db + ".pools[0].name", "shared", "the shared instance's name"},
		{"a pool name that is not DNS-safe", map[string]string{db: `{"pools":[{"name":"Pool_A"}]}`},
			db + ".pools[0].name", "Pool_A", "saas-platform-dev-pool-<name>"},
		{"two pools of one name", map[string]string{db: `{"pools":[{"name":"a"},{"name":"a"}]}`},
			db + ".pools[1].name", "a", "already used by saas-platform:database.pools[0]"},
		{"a pool whose storage cannot grow", map[string]string{db: `{"pools":[{"name":"a","allocatedStorage":100,"maxAllocatedStorage":50}]}`},
			db + ".pools[0].maxAllocatedStorage", "50", "more than the pool's allocatedStorage (100)"},
		{"an unknown key in a pool", map[string]string{db: `{"pools":[{"name":"a","class":"db.r6g.large"}]}`},
			db + ".pools[0].class", "", "keys allowed in saas-platform:database.pools[0] are name, instanceClass, allocatedStorage, maxAllocatedStorage"},
		{"a tenant on a pool that is not declared", map[string]string{"saas-platform:tenants": `[{"id":"acme","plan":"free","pool":"b"}]`},
			"saas-platform:tenants[0].pool", "b", "one of shared"},
		{"a silo tenant given a pool", map[string]string{db: `{"pools":[{"name":"a"}]}`, "saas-platform:tenants": `[{"id":"acme","plan":"premium","pool":"a"}]`},
			"saas-platform:tenants[0].pool", "a", "plan premium gives the tenant a dedicated instance"},
		{"a silo tenant whose instance would be a pool's", map[string]string{db: `{"pools":[{"name":"a"}]}`, "saas-platform:tenants": `[{"id":"pool-a","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "pool-a", "saas-platform-dev-pool-a, which is a pool's"},
		{"no database connections", map[string]string{"saas-platform:services": fmt.Sprintf(svc, 0)},
			"saas-platform:services[0] (service api).databaseConnections", "0", "between 1 and 5000"},
		{"database connections for a service that does not use PostgreSQL", map[string]string{
			"saas-platform:services": `[{"name":"api","port":3000,"databaseConnections":5}]`},
			"saas-platform:services[0] (service api).databaseConnections", "5", "does not use PostgreSQL"},
	}
	for _, tc := range cases {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			_, err := config.Parse(project, "dev", values(tc.values))
			p := oneProblem(t, err)
			assert.Equal(t, tc.key, p.Key)
			assert.Equal(t, tc.value, p.Value)
			assert.Contains(t, p.Allowed, tc.allowed)
		})
	}
}

func TestManyTenantsOnOneInstanceAreRefusedWithTheConnectionNumbers(t *testing.T) {
	// dev's db.t4g.micro: max_connections 112, 15 reserved, and api's 3 x 2
	// tasks: 91 for tenants. Four basic tenants (80) and three free (15) are 95.
	_, err := config.Parse(project, "dev", values(map[string]string{
		"saas-platform:services": `[{"name":"api","port":3000,"desiredCount":1,"maxCount":2,"databaseConnections":3,` +
			`"environment":{"DATABASE_URL_HOST":"${database.host}"}}]`,
		"saas-platform:tenants": list(poolTenants("basic", "basic", "", 4), poolTenants("free", "free", "", 3)),
	}))
	require.Error(t, err)
	ps := problems(t, err)
	require.Len(t, ps, 1, "%v", err)
	assert.Equal(t, "saas-platform:database.instanceClass", ps[0].Key)
	assert.Equal(t, "db.t4g.micro", ps[0].Value)
	for _, want := range []string{
		"cannot hold the pool tenants placed on the shared instance",
		"its 7 pool tenants may open 95 connections, 4 more than the 91 allowed",
		"max_connections 112 (RDS's default for db.t4g.micro) - 15 reserved (PostgreSQL 3, RDS 2, provisioner 10) - 6 for services (api 3 x 2 tasks), x overcommit 1",
		"basic-0 (20), basic-1 (20), basic-2 (20), basic-3 (20), free-0 (5)",
		"declare one in database.pools",
	} {
		assert.Contains(t, ps[0].Allowed, want)
	}

	// The same tenants with an overcommit of 1.5 fit: 91 x 1.5 = 136.
	_, err = config.Parse(project, "dev", values(map[string]string{
		"saas-platform:database": `{"connectionOvercommit":1.5}`,
		"saas-platform:tenants":  list(poolTenants("basic", "basic", "", 4), poolTenants("free", "free", "", 3)),
	}))
	assert.NoError(t, err)
}

func TestAFullPoolIsNamedByItsKey(t *testing.T) {
	_, err := config.Parse(project, "dev", values(map[string]string{
		"saas-platform:database": `{"pools":[{"name":"a"},{"name":"b","instanceClass":"db.t4g.micro"}]}`,
		"saas-platform:tenants":  list(poolTenants("t", "basic", "b", 5)),
	}))
	require.Error(t, err)
	ps := problems(t, err)
	require.Len(t, ps, 1, "%v", err)
	assert.Equal(t, "saas-platform:database.pools[1].instanceClass", ps[0].Key)
	assert.Contains(t, ps[0].Allowed, "placed on pool b: its 5 pool tenants may open 100 connections, 3 more than the 97 allowed")
}

func TestTheSameTenantsSpreadOverPoolsFitAndKeepTheirPlacement(t *testing.T) {
	s, err := config.Parse(project, "prod", values(map[string]string{
		"saas-platform:sizing":   "prod",
		"saas-platform:domain":   `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`,
		"saas-platform:database": `{"pools":[{"name":"a"},{"name":"b","instanceClass":"db.r6g.xlarge","allocatedStorage":200}]}`,
		"saas-platform:tenants": list(poolTenants("s", "basic", "", 80), poolTenants("a", "basic", "a", 80),
			poolTenants("b", "basic", "b", 170), poolTenants("x", "premium", "", 1)),
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{"shared", "a", "b"}, s.PoolNames())
	assert.Equal(t, config.DatabasePool{Name: "a", InstanceClass: "db.r6g.large", AllocatedStorage: 100, MaxAllocatedStorage: 1000},
		s.Database.Pools[0], "a pool takes what it leaves out from the database section")
	assert.Equal(t, config.DatabasePool{Name: "b", InstanceClass: "db.r6g.xlarge", AllocatedStorage: 200, MaxAllocatedStorage: 1000}, s.Database.Pools[1])
	pools := map[string]int{}
	for _, tenant := range s.Tenants {
		pools[tenant.Pool]++
	}
	assert.Equal(t, map[string]int{"shared": 80, "a": 80, "b": 170, "": 1}, pools, "silo tenants are in no pool")

	loads, err := s.PoolLoads()
	require.NoError(t, err)
	require.Len(t, loads, 3)
	assert.Equal(t, 1600, loads[1].ConnectionsUsed)
	assert.Equal(t, 1787, loads[1].ConnectionsAllowed)
	assert.Equal(t, 3589, loads[2].ConnectionsAllowed)
}

func TestServicesThatUsePostgreSQLCountTheirConnectionsAtTheirMaximumTaskCount(t *testing.T) {
	s, err := config.Parse(project, "dev", values(map[string]string{
		"saas-platform:services": `[` +
			`{"name":"api","port":3000,"desiredCount":2,"maxCount":6,"environment":{"PGHOST":"${database.host}"}},` +
			`{"name":"worker","port":3001,"databaseConnections":4,"environment":{"PGDATABASE":"${database.name}"}},` +
			`{"name":"web","port":3002}]`,
	}))
	require.NoError(t, err)
	loads, err := s.PoolLoads()
	require.NoError(t, err)
	assert.Equal(t, 10*6+4*1, loads[0].ServiceConnections, "api: the default 10 per task x 6; worker 4 x 1; web uses no database")
}

func TestAPoolTenantNeverMovesPoolSilently(t *testing.T) {
	stack := func(tenants string) *config.Stack {
		s, err := config.Parse(project, "dev", values(map[string]string{
			"saas-platform:database": `{"pools":[{"name":"a"}]}`,
			"saas-platform:tenants":  tenants,
		}))
		require.NoError(t, err)
		return s
	}
	deployed, err := config.DeployedFrom(map[string]any{
		"globex":  map[string]any{"plan": "free", "isolation": "pool", "pool": "a"},
		"initech": map[string]any{"plan": "basic", "isolation": "pool"}, // deployed before pools
	}, nil, nil)
	require.NoError(t, err)

	assert.NoError(t, config.CheckTransitions(stack(`[{"id":"globex","plan":"basic","pool":"a"},{"id":"initech","plan":"free"}]`), deployed),
		"plan changes within a pool are made in place")

	err = config.CheckTransitions(stack(`[{"id":"globex","plan":"free"},{"id":"initech","plan":"basic","pool":"a"}]`), deployed)
	ps := problems(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, "saas-platform:tenants[0].pool", ps[0].Key)
	assert.Equal(t, "shared", ps[0].Value)
	assert.Contains(t, ps[0].Allowed, "cannot move tenant globex: its database is deployed in pool a (instance saas-platform-dev-pool-a)")
	assert.Contains(t, ps[0].Allowed, "pg_dump")
	assert.Equal(t, "saas-platform:tenants[1].pool", ps[1].Key)
	assert.Contains(t, ps[1].Allowed, "deployed in pool shared (instance saas-platform-dev)")
}
