package pgcapacity_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/pgcapacity"
)

func TestTheDefaultMaxConnectionsFollowRDSFormulaFromTheClassMemory(t *testing.T) {
	cases := []struct {
		class string
		want  int
	}{
		{"db.t4g.micro", 112},   // 1 GiB / 9531392
		{"db.t4g.medium", 450},  // 4 GiB
		{"db.r6g.large", 1802},  // 16 GiB: the "about 1,800"
		{"db.m6g.xlarge", 1802}, // 16 GiB
		{"db.r6g.xlarge", 3604}, // 32 GiB
		{"db.r6g.2xlarge", 5000},
		{"db.x2g.16xlarge", 5000}, // 1 TiB, capped
	}
	for _, tc := range cases {
		t.Run(tc.class, func(t *testing.T) {
			got, err := pgcapacity.DefaultMaxConnections(tc.class)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestAnUnknownClassIsAnErrorThatNamesIt(t *testing.T) {
	_, err := pgcapacity.DefaultMaxConnections("db.z9.huge")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "db.z9.huge")
	_, err = pgcapacity.Measure(pgcapacity.Instance{Name: "shared", Class: "db.r6g.huge"})
	assert.ErrorContains(t, err, "db.r6g.huge")
}

func TestTenantsGetWhatIsLeftAfterReservedAndServiceConnectionsTimesTheOvercommit(t *testing.T) {
	services := []pgcapacity.Service{{Name: "api", ConnectionsPerTask: 10, MaxTasks: 10}, {Name: "worker", ConnectionsPerTask: 5, MaxTasks: 2}}
	cases := []struct {
		name       string
		class      string
		services   []pgcapacity.Service
		overcommit float64
		want       int
	}{
		{"r6g.large, no services", "db.r6g.large", nil, 0, 1802 - 15},
		{"r6g.large with 110 service connections", "db.r6g.large", services, 1, 1802 - 15 - 110},
		{"r6g.large overcommitted 2.5 times", "db.r6g.large", services, 2.5, (1802 - 15 - 110) * 5 / 2},
		{"t4g.micro: services take more than there is", "db.t4g.micro", services, 1, 0},
		{"capped class", "db.r6g.4xlarge", nil, 1, 5000 - 15},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := pgcapacity.Measure(pgcapacity.Instance{Name: "shared", Class: tc.class, Services: tc.services, Overcommit: tc.overcommit})
			require.NoError(t, err)
			assert.Equal(t, tc.want, l.ConnectionsAllowed)
			assert.Equal(t, pgcapacity.MaxDatabasesPerInstance, l.DatabasesAllowed)
		})
	}
}

func tenants(n, limit int, prefix string) []pgcapacity.Tenant {
	out := make([]pgcapacity.Tenant, n)
	for i := range out {
		out[i] = pgcapacity.Tenant{ID: fmt.Sprintf("%s-%04d", prefix, i), ConnectionLimit: limit}
	}
	return out
}

func TestTooManyConnectionsAreRefusedWithTheNumbersTheTenantsAndWhatToDo(t *testing.T) {
	// The measurement: 1,000 basic and 1,000 free tenants on one
	// db.r6g.large.
	all := append(tenants(1000, 20, "basic"), tenants(1000, 5, "free")...)
	l, err := pgcapacity.Measure(pgcapacity.Instance{Name: "shared", Class: "db.r6g.large", Tenants: all})
	require.NoError(t, err)
	problems := l.Problems()
	require.Len(t, problems, 2)
	assert.Contains(t, problems[0], "its 2000 pool tenants may open 25000 connections, 23213 more than the 1787 allowed")
	assert.Contains(t, problems[0], "max_connections 1802 (RDS's default for db.r6g.large) - 15 reserved")
	assert.Contains(t, problems[0], "basic-0000 (20)", "the largest tenants are named")
	assert.Contains(t, problems[0], "and 1988 more")
	assert.Contains(t, problems[0], "database.pools")
	assert.Contains(t, problems[0], "database.connectionOvercommit")
	assert.Contains(t, problems[1], "2000 pool tenants' databases, 1000 more than the 1000 allowed")
	assert.Contains(t, problems[1], "free-0000", "the tenants past the bound are named")
}

func TestTenantsThatFitRaiseNoProblem(t *testing.T) {
	l, err := pgcapacity.Measure(pgcapacity.Instance{Name: "a", Class: "db.r6g.large", Tenants: tenants(89, 20, "basic")})
	require.NoError(t, err)
	assert.Empty(t, l.Problems(), "89 x 20 = 1780 of 1787")
	assert.Equal(t, 7, l.ConnectionRoom())
	assert.False(t, l.Fits(20))
	assert.True(t, l.Fits(5))
	assert.Len(t, l.With(pgcapacity.Tenant{ID: "x", ConnectionLimit: 20}).Problems(), 1)
}

func TestANewTenantGoesToThePoolWithTheMostRoom(t *testing.T) {
	measure := func(name, class string, n int) pgcapacity.Load {
		l, err := pgcapacity.Measure(pgcapacity.Instance{Name: name, Class: class, Tenants: tenants(n, 20, name)})
		require.NoError(t, err)
		return l
	}
	loads := []pgcapacity.Load{measure("shared", "db.r6g.large", 80), measure("a", "db.r6g.large", 10), measure("b", "db.r6g.xlarge", 100)}
	got, err := pgcapacity.Place(loads, pgcapacity.Tenant{ID: "new", ConnectionLimit: 20})
	require.NoError(t, err)
	assert.Equal(t, "b", got, "b has 3589 - 2000 = 1589 left, a 1787 - 200 = 1587")

	full := []pgcapacity.Load{measure("shared", "db.r6g.large", 89), measure("a", "db.r6g.large", 89)}
	_, err = pgcapacity.Place(full, pgcapacity.Tenant{ID: "new", ConnectionLimit: 20})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no pool has room for tenant new (20 connections)")
	assert.Contains(t, err.Error(), "a (db.r6g.large: 1780 of 1787 connections, 89 of 1000 databases)")
	assert.Contains(t, err.Error(), "Add a pool to database.pools")

	got, err = pgcapacity.Place(full, pgcapacity.Tenant{ID: "small", ConnectionLimit: 5})
	require.NoError(t, err)
	assert.Equal(t, "shared", got, "equal room: the first listed")
}
