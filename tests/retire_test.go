package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/saas-platform/saas-platform/components/platform"
	"github.com/saas-platform/saas-platform/internal/plan"
)

// Retiring a protected environment on purpose is two steps: deploy the
// stack file with dataProtection.retire: true, then pulumi destroy. Before
// the first, destroy stops at the first protected resource; after it,
// nothing is protected, and what holds the data stays in the account.

// deletedOnRetire are the protected types a retiring environment's destroy
// deletes, and where their data is then.
var deletedOnRetire = map[string]func(t *testing.T, r plan.Resource){
	// The final snapshot is taken and the automated backups kept; the AWS
	// Backup recovery points stay in the retained vaults.
	"aws:rds/instance:Instance": func(t *testing.T, r plan.Resource) {
		assert.Equal(t, false, r.Input("deletionProtection"), "%s can be deleted", r.Name)
		assert.Equal(t, false, r.Input("skipFinalSnapshot"), "%s leaves a final snapshot", r.Name)
		assert.NotEmpty(t, r.String("finalSnapshotIdentifier"), r.Name)
		assert.Equal(t, false, r.Input("deleteAutomatedBackups"), "%s keeps its automated backups", r.Name)
		assert.False(t, r.Options.RetainOnDelete, "%s is deleted, not left running unmanaged", r.Name)
	},
	// A cache; it still leaves a final snapshot.
	"aws:elasticache/replicationGroup:ReplicationGroup": func(t *testing.T, r plan.Resource) {
		assert.NotEmpty(t, r.String("finalSnapshotIdentifier"), r.Name)
	},
}

// planRetiring plans a stack file with dataProtection.retire: true added.
func planRetiring(t *testing.T, file, stack string) *plan.Result {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	cfg := doc["config"].(map[string]any)
	cfg["saas-platform:dataProtection"] = merged(cfg["saas-platform:dataProtection"], map[string]any{"retire": true})
	out, err := yaml.Marshal(doc)
	require.NoError(t, err)
	retiring := filepath.Join(t.TempDir(), "Pulumi."+stack+".yaml")
	require.NoError(t, os.WriteFile(retiring, out, 0o600))
	result, err := planFile(t, retiring, stack)
	require.NoError(t, err)
	return result
}

func TestARetiringEnvironmentProtectsNothingAndKeepsWhatHoldsItsData(t *testing.T) {
	for _, s := range controlStacks {
		t.Run(s.name, func(t *testing.T) {
			before := controlPlan(t, s.name, s.file)
			after := planRetiring(t, s.file, s.name)
			require.Equal(t, len(before.Resources), len(after.Resources), "retiring changes how resources go, not which exist")

			guarded := map[string]bool{} // protected or retained before
			for _, r := range before.Resources {
				if r.Options.Protect || r.Options.RetainOnDelete {
					guarded[r.URN] = true
				}
			}
			if s.sizing == "prod" {
				assert.NotEmpty(t, guarded, "a protected environment's destroy stops at its protected resources")
			}
			for _, r := range after.Resources {
				assert.False(t, r.Options.Protect, "%s %s is not protected: pulumi destroy runs", r.Type, r.Name)
				if platform.RetainedOnRetire[r.Type] {
					assert.True(t, r.Options.RetainOnDelete, "%s %s stays in the account", r.Type, r.Name)
					continue
				}
				if !guarded[r.URN] {
					continue
				}
				check, ok := deletedOnRetire[r.Type]
				if assert.True(t, ok, "%s %s was protected: retain it (platform.RetainedOnRetire) or say where its data goes (deletedOnRetire)", r.Type, r.Name) {
					check(t, r)
				}
			}
			for _, lb := range plan.OfType(after.Resources, "aws:lb/loadBalancer:LoadBalancer") {
				assert.Equal(t, false, lb.Input("enableDeletionProtection"), "the load balancer can be deleted")
			}
			for _, repo := range plan.OfType(after.Resources, "aws:ecr/repository:Repository") {
				assert.Equal(t, true, repo.Input("forceDelete"), "%s goes with its images", repo.Name)
			}
		})
	}
}

func TestProdIsProtectedUntilItsRetirementIsDeployed(t *testing.T) {
	prod := planStack(t, "prod")
	for _, typ := range []string{"aws:rds/instance:Instance", "aws:kms/key:Key", "aws:backup/vault:Vault", "aws:s3/bucketV2:BucketV2"} {
		for _, r := range plan.OfType(prod.Resources, typ) {
			assert.True(t, r.Options.Protect, "%s %s is protected in prod", typ, r.Name)
		}
	}
}
