package tests

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/platform"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

type statement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource []string
}

func statementsOf(t *testing.T, p plan.Resource) []statement {
	t.Helper()
	var doc struct{ Statement []statement }
	require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc), p.Name)
	return doc.Statement
}

// iamMatches reports whether an IAM resource pattern (* and ? wildcards)
// matches an ARN.
func iamMatches(pattern, arn string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(arn)
}

// readsSecrets reports whether a statement allows reading Secrets Manager.
func readsSecrets(st statement) bool {
	if st.Effect != "Allow" {
		return false
	}
	for _, a := range st.Action {
		if a == "*" || strings.HasPrefix(a, "secretsmanager:") {
			return true
		}
	}
	return false
}

// masterSecrets are the RDS-managed master secrets of a plan: what the
// provisioner is allowed to read as master, one per instance.
func masterSecrets(t *testing.T, result *plan.Result) []string {
	t.Helper()
	var masters []string
	for _, p := range plan.OfType(result.Resources, rolePolicyType) {
		for _, st := range statementsOf(t, p) {
			if st.Sid == "MasterCredentials" || st.Sid == "SiloMasterCredentials" {
				masters = append(masters, st.Resource...)
			}
		}
	}
	slices.Sort(masters)
	return slices.Compact(masters)
}

// isProvisioner reports whether a role policy is a provisioner's: the
// stack's tenant provisioner, or the onboarding's, which runs the same
// code for run-time tenants. Their job is to log in as master.
func isProvisioner(p plan.Resource) bool { return strings.Contains(p.Name, "-provisioner") }

func TestNoRoleButTheProvisionersCanReadAnyMasterSecret(t *testing.T) {
	for _, s := range controlStacks {
		t.Run(s.name, func(t *testing.T) {
			result := controlPlan(t, s.name, s.file)
			masters := masterSecrets(t, result)
			instances := plan.OfType(result.Resources, "aws:rds/instance:Instance")
			require.Len(t, masters, len(instances), "the provisioner reads each instance's master secret")
			for _, m := range masters {
				assert.Contains(t, m, ":secret:rds!db-", "an RDS-managed secret")
			}
			checked := 0
			for _, p := range plan.OfType(result.Resources, rolePolicyType) {
				if isProvisioner(p) {
					continue
				}
				for _, st := range statementsOf(t, p) {
					if !readsSecrets(st) {
						continue
					}
					for _, r := range st.Resource {
						checked++
						for _, m := range masters {
							assert.False(t, iamMatches(r, m), "%s %s: %s can read the master secret %s", p.Name, st.Sid, r, m)
						}
						assert.NotContains(t, r, "rds!", "%s %s", p.Name, st.Sid)
					}
				}
			}
			for _, td := range tasks(t, result) {
				for _, c := range td {
					for _, e := range c.Environment {
						assert.NotContains(t, e.Value, ":secret:rds!", "%s's %s names a master secret", c.Name, e.Name)
					}
				}
			}
			if s.name != "every-plan" {
				assert.NotZero(t, checked, "some service reads a secret, so the check saw policies")
			}
		})
	}
}

func TestOnlyServicesThatAskReadTenantsCredentialsAndTheGrantCoversNothingElse(t *testing.T) {
	result := controlPlan(t, "data-contract", "testdata/Pulumi.data-contract.yaml")
	granted := map[string][]string{}
	for _, p := range plan.OfType(result.Resources, rolePolicyType) {
		if isProvisioner(p) {
			continue
		}
		for _, st := range statementsOf(t, p) {
			if st.Sid == "TenantCredentials" {
				granted[p.Name] = st.Resource
			}
		}
	}
	tenantsPattern := "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:saas-platform/data-contract/tenants/*"
	assert.Equal(t, map[string][]string{"api-task": {tenantsPattern}, "reporting-task": {tenantsPattern}}, granted,
		"exactly the services with access: [{tenants: read}], on their task role")

	var tenantSecrets, others []string
	for _, secret := range plan.OfType(result.Resources, "aws:secretsmanager/secret:Secret") {
		arn := "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:" + secret.String("name") + "-AbCdEf"
		if strings.Contains(secret.String("name"), "/tenants/") {
			tenantSecrets = append(tenantSecrets, arn)
		} else {
			others = append(others, arn)
		}
		assert.Equal(t, strings.Contains(secret.String("name"), "/tenants/"), iamMatches(tenantsPattern, arn), secret.String("name"))
	}
	// Pool tenants' secrets are the provisioner's, made by the name its
	// event gives.
	for _, inv := range plan.OfType(result.Resources, "aws:lambda/invocation:Invocation") {
		var event struct{ SecretName string }
		require.NoError(t, json.Unmarshal([]byte(inv.String("input")), &event))
		if event.SecretName == "" {
			continue
		}
		arn := "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:" + event.SecretName + "-AbCdEf"
		assert.True(t, iamMatches(tenantsPattern, arn), event.SecretName)
		tenantSecrets = append(tenantSecrets, arn)
	}
	assert.Len(t, tenantSecrets, 4, "every tenant's credentials, pool and silo, live under the tenants' path")
	assert.NotEmpty(t, others, "the services' logins, the cache's token: outside it")
	for _, m := range masterSecrets(t, result) {
		assert.False(t, iamMatches(tenantsPattern, m), "the grant never covers a master secret")
	}
}

func TestEachServiceGetsItsOwnDatabaseLoginOnlyThroughSecrets(t *testing.T) {
	result := controlPlan(t, "data-contract", "testdata/Pulumi.data-contract.yaml")
	all := tasks(t, result)
	login := func(service string) string {
		return "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:saas-platform/data-contract/services/" + service + "/database-AbCdEf"
	}
	secretOf := func(service, name string) string {
		for _, s := range all[service][0].Secrets {
			if s.Name == name {
				return s.ValueFrom
			}
		}
		return ""
	}
	assert.Equal(t, login("api")+":url::", secretOf("api", "DATABASE_URL"))
	assert.Equal(t, login("collaboration")+":url::", secretOf("collaboration", "DATABASE_URL"))
	assert.NotEqual(t, secretOf("api", "DATABASE_URL"), secretOf("collaboration", "DATABASE_URL"), "two services, two logins")
	assert.Equal(t, login("reporting"), secretOf("reporting", "DATABASE"), "${database.secret} is the whole JSON secret")

	auth, ok := plan.Named(result.Resources, "aws:secretsmanager/secret:Secret", "saas-platform-data-contract-redis-auth")
	require.True(t, ok)
	authArn := "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:" + auth.String("name") + "-AbCdEf"
	for _, service := range []string{"api", "collaboration", "notification"} {
		assert.Equal(t, authArn, secretOf(service, "REDIS_PASSWORD"), service)
	}
	for service := range all {
		execution, ok := plan.Named(result.Resources, rolePolicyType, service+"-execution")
		if !ok {
			continue
		}
		var readable []string
		for _, st := range statementsOf(t, execution) {
			if readsSecrets(st) {
				readable = append(readable, st.Resource...)
			}
		}
		for _, other := range []string{"api", "collaboration", "reporting"} {
			assert.Equal(t, other == service, slices.Contains(readable, login(other)), "%s reads %s's login", service, other)
		}
		assert.Equal(t, service != "dashboard" && service != "reporting", slices.Contains(readable, authArn),
			"%s reads the cache's token only if it names it", service)
		for _, c := range all[service] {
			for _, e := range c.Environment {
				assert.NotContains(t, e.Value, "${", "%s %s: every reference is resolved", service, e.Name)
				assert.NotContains(t, []string{"DATABASE_URL", "REDIS_PASSWORD", "DATABASE", "REDIS_AUTH_TOKEN", "DATABASE_SECRET_ARN"}, e.Name,
					"%s: credentials are never plain variables", service)
			}
		}
	}
}

func TestAServicesMigrationIsValidatedAndTheNoticeNamesEveryTenantItMustRunFor(t *testing.T) {
	project, err := plan.ProjectName("..")
	require.NoError(t, err)
	sf, err := config.ReadStackFile("testdata/Pulumi.data-contract.yaml", project)
	require.NoError(t, err)
	s, err := config.Parse(project, "data-contract", sf.Values)
	require.NoError(t, err)
	assert.Equal(t, []string{
		`service api: migrate "npm run migrate" is validated but not run by this version of the platform: ` +
			"run it as a one-off task of the service for tenants acme, umbrella, globex, initech before its new image or command rolls out " +
			"(docs/data-contract.md#tenant-migrations)",
	}, platform.MigrationNotices(s), "one notice per service that migrates, naming every tenant, so a preview never implies it ran")
}
