package tests

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/migrations"
	runtime "github.com/saas-platform/saas-platform/internal/onboarding"
	"github.com/saas-platform/saas-platform/internal/plan"
)

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
	assert.Equal(t, map[string][]string{
		"api-task": {tenantsPattern}, "reporting-task": {tenantsPattern},
		"api-migration": {tenantsPattern}, "collaboration-migration": {tenantsPattern},
	}, granted, "exactly the services with access: [{tenants: read}], on their task role, and the migrations, which connect as each tenant; "+
		"collaboration migrates but its own tasks cannot read a tenant's credentials")

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

func TestEveryTenantIsMigratedByEachServiceThatMigratesBeforeItRollsOut(t *testing.T) {
	result := controlPlan(t, "data-contract", "testdata/Pulumi.data-contract.yaml")
	ms, err := plan.Migrations(result.Resources)
	require.NoError(t, err)
	byURN := map[string]plan.Resource{}
	for _, r := range result.Resources {
		byURN[r.URN] = r
	}
	named := func(typ, name string) plan.Resource {
		r, ok := plan.Named(result.Resources, typ, name)
		require.True(t, ok, "%s %s", typ, name)
		return r
	}
	reach, err := plan.AnalyzeReachability(result.Resources)
	require.NoError(t, err)
	reaches := func(from string) map[string]bool {
		to := map[string]bool{}
		for _, f := range reach.Flows {
			if f.From == from && strings.HasPrefix(f.To, "database:") && f.FromPort == 5432 {
				to[f.To] = true
			}
		}
		return to
	}
	secretsOf := map[string]string{}
	for _, td := range plan.OfType(result.Resources, "saas:data:TenantDatabase") {
		id := td.Name[strings.LastIndex(td.Name, "-tenant-")+len("-tenant-"):]
		secretsOf[id] = "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:saas-platform/data-contract/tenants/" + id + "/database-AbCdEf"
	}
	require.Len(t, secretsOf, 4)

	commands := map[string][]string{"api": {"npm", "run", "migrate"}, "collaboration": {"node", "migrate.js"}}
	require.Len(t, ms, len(commands), "one invocation per service with a migrate command, none for the others")
	for _, m := range ms {
		req := m.Request
		t.Run(req.Service, func(t *testing.T) {
			require.NoError(t, req.Spec.Check(), "the runner accepts what the program sends")
			assert.Equal(t, commands[req.Service], req.Command)
			assert.Equal(t, req.Service, req.Container)
			family := named("aws:ecs/taskDefinition:TaskDefinition", req.Service).String("family")
			assert.Equal(t, "arn:aws:ecs:ap-northeast-1:"+plan.AccountID+":task-definition/"+family+":1", req.TaskDefinition, "the service's own task definition")
			assert.Equal(t, "arn:aws:iam::"+plan.AccountID+":role/"+named("aws:iam/role:Role", req.Service+"-migration").ID, req.TaskRole)
			group := named("aws:ec2/securityGroup:SecurityGroup", "saas-platform-data-contract-svc-"+req.Service)
			assert.Equal(t, []string{group.ID}, req.SecurityGroups, "in the service's own group")
			for instance := range reaches("provisioner") {
				assert.True(t, reaches("service:" + req.Service)[instance], "the service's group reaches %s, where tenants live", instance)
			}
			assert.Equal(t, "FARGATE", req.CapacityProvider)
			got := map[string]string{}
			for _, tenant := range req.Tenants {
				got[tenant.ID] = tenant.SecretID
			}
			assert.Equal(t, secretsOf, got, "every tenant, pool and silo, with its own credentials")

			invocation := byURN[m.Invocation]
			deps := map[string]bool{}
			for _, d := range invocation.Dependencies {
				deps[byURN[d].Type+" "+byURN[d].Name] = true
			}
			logins := 0
			for _, inv := range plan.OfType(result.Resources, "aws:lambda/invocation:Invocation") {
				// A pool tenant's provisioning, or a silo tenant's login.
				if strings.Contains(inv.Name, "-tenant-") {
					logins++
					assert.True(t, deps[inv.Type+" "+inv.Name], "migrations wait for %s, which makes the tenant's login", inv.Name)
				}
			}
			assert.Equal(t, len(secretsOf), logins, "one login per tenant")
			for _, dependent := range []string{"aws:ecs/service:Service"} {
				svc, ok := plan.Named(result.Resources, dependent, req.Service)
				require.True(t, ok)
				assert.Contains(t, svc.Dependencies, m.Invocation, "the service rolls out only after every tenant is migrated")
			}
		})
	}
}

func TestTheRunnerMayStartOnlyTheMigratingServicesTasksWithTheirRoles(t *testing.T) {
	result := controlPlan(t, "data-contract", "testdata/Pulumi.data-contract.yaml")
	runner, ok := plan.Named(result.Resources, "aws:iam/role:Role", "migrations")
	require.True(t, ok)
	runnerName := runner.ID
	var run, pass []string
	for _, p := range plan.OfType(result.Resources, rolePolicyType) {
		if p.String("role") != runnerName {
			continue
		}
		for _, st := range statementsOf(t, p) {
			assert.False(t, readsSecrets(st), "%s %s: the runner reads no secret", p.Name, st.Sid)
			switch {
			case slices.Contains(st.Action, "ecs:RunTask"):
				run = append(run, st.Resource...)
			case slices.Contains(st.Action, "iam:PassRole"):
				pass = append(pass, st.Resource...)
			}
			for _, r := range st.Resource {
				assert.NotEqual(t, "*", r, "%s %s", p.Name, st.Sid)
			}
		}
	}
	family := "arn:aws:ecs:ap-northeast-1:" + plan.AccountID + ":task-definition/saas-platform-data-contract-%s:*"
	assert.ElementsMatch(t, []string{fmt.Sprintf(family, "api"), fmt.Sprintf(family, "collaboration")}, run)
	var roles []string
	for _, name := range []string{"api-execution", "api-migration", "collaboration-execution", "collaboration-migration"} {
		r, ok := plan.Named(result.Resources, "aws:iam/role:Role", name)
		require.True(t, ok, name)
		roles = append(roles, "arn:aws:iam::"+plan.AccountID+":role/"+r.ID)
	}
	assert.ElementsMatch(t, roles, pass, "it passes the migrating services' execution and migration roles, never their task roles or anyone else's")
}

func TestTheOnboardingWorkerMigratesEveryTenantItMakesAndTheRunnerTheRegistrysToo(t *testing.T) {
	result := controlPlan(t, "data-contract", "testdata/Pulumi.data-contract.yaml")
	prefix := "saas-platform-data-contract"
	ms, err := plan.Migrations(result.Resources)
	require.NoError(t, err)
	var specs []migrations.Spec
	for _, m := range ms {
		specs = append(specs, m.Request.Spec)
	}

	item := named(t, result, tableItemType, prefix+"-stack-facts")
	var attrs map[string]map[string]string
	require.NoError(t, json.Unmarshal([]byte(item.String("item")), &attrs))
	var facts runtime.StackFacts
	require.NoError(t, json.Unmarshal([]byte(attrs[runtime.FactsAttribute]["S"]), &facts))
	assert.Equal(t, specs, facts.Migrations, "the worker runs for a new tenant exactly what the deployment runs for the stack file's")

	worker := named(t, result, functionType, prefix+"-onboarding-provisioner")
	queue := named(t, result, queueType, prefix)
	assert.Equal(t, 900.0, worker.Number("timeout"), "an attempt waits for the migration tasks")
	assert.GreaterOrEqual(t, queue.Number("visibilityTimeoutSeconds"), worker.Number("timeout"), "SQS requires it")
	grant := named(t, result, rolePolicyType, prefix+"-onboarding-provisioner-more")
	var run, pass []string
	for _, st := range statementsOf(t, grant) {
		switch st.Sid {
		case "RunTheServicesTask":
			run = st.Resource
		case "PassItsRoles":
			pass = st.Resource
		}
	}
	family := "arn:aws:ecs:ap-northeast-1:" + plan.AccountID + ":task-definition/" + prefix + "-%s:*"
	assert.ElementsMatch(t, []string{fmt.Sprintf(family, "api"), fmt.Sprintf(family, "collaboration")}, run, "api's and collaboration's task definitions")
	var roles []string
	for _, name := range []string{"api-execution", "api-migration", "collaboration-execution", "collaboration-migration"} {
		roles = append(roles, "arn:aws:iam::"+plan.AccountID+":role/"+named(t, result, "aws:iam/role:Role", name).ID)
	}
	assert.ElementsMatch(t, roles, pass, "their execution and migration roles, never their task roles")
	assert.Contains(t, worker.Dependencies, grant.URN, "the worker runs only once it may start the tasks")

	runner := named(t, result, functionType, "migrations")
	assert.Equal(t, prefix+"-tenants", runner.String("environment.variables."+runtime.EnvTable))
	policy := named(t, result, rolePolicyType, "migrations")
	var scans []string
	for _, st := range statementsOf(t, policy) {
		if slices.Contains(st.Action, "dynamodb:Scan") {
			scans = st.Resource
		}
	}
	table := named(t, result, tableType, prefix+"-registry")
	assert.Equal(t, []string{"arn:aws:dynamodb:ap-northeast-1:" + plan.AccountID + ":table/" + table.String("name")}, scans,
		"the runner reads the registry, and only it, to migrate run-time tenants on a new task")
}
