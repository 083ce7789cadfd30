package tenantid_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/saas-platform/saas-platform/internal/tenantid"
)

func TestATenantIdIsRefusedWhenItsNamesCollideWithWhatExists(t *testing.T) {
	cases := []struct {
		id, reason string
	}{
		{"", "is required"},
		{"Acme", "lowercase letters"},
		{"acme_corp", "lowercase letters"},
		{"acme--corp", "single hyphens"},
		{"-acme", "starting with a letter"},
		{"acme-", "not ending with a hyphen"},
		{"1acme", "starting with a letter"},
		{"acme, onRemove: drop", "lowercase letters"},
		{"acme\n", "lowercase letters"},
		{"a" + string(make([]byte, 63)), "lowercase letters"},
		{"saas-admin", "master user"},
		{"platform", "shared instance's own database"},
		{"shared", "shared PostgreSQL instance"},
		{"public", "PostgreSQL reserves"},
		{"none", "PostgreSQL reserves"},
		{"current-user", "PostgreSQL reserves"},
		{"session-user", "PostgreSQL reserves"},
		{"current-role", "PostgreSQL reserves"},
		{"pg-monitor", "starting with pg_"},
		{"rdsadmin", "RDS names its own"},
		{"rds-superuser", "RDS names its own"},
		{"postgres", "every PostgreSQL instance already has"},
		{"template0", "every PostgreSQL instance already has"},
		{"template1", "every PostgreSQL instance already has"},
		{"select", "PostgreSQL keyword"},
		{"user", "PostgreSQL keyword"},
		{"system-user", "PostgreSQL reserves"},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.id, func(t *testing.T) {
			err := tenantid.Check(tc.id)
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tc.reason)
			}
		})
	}
}

func TestOrdinaryTenantIdsAreAccepted(t *testing.T) {
	for _, id := range []string{"acme", "globex-corp", "initech2", "a", "pgsql", "user-data", "templates", "shared-services", "postgresql"} {
		assert.NoError(t, tenantid.Check(id), id)
	}
}

func TestTheDatabaseNameIsTheIdWithUnderscores(t *testing.T) {
	assert.Equal(t, "globex_corp", tenantid.Database("globex-corp"))
	assert.NoError(t, tenantid.CheckDatabase(tenantid.Database("globex-corp")))
	assert.Error(t, tenantid.CheckDatabase("globex-corp"), "no tenant id makes a name with a hyphen")
}
