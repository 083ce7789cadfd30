package data_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/pgcapacity"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	instanceType   = "aws:rds/instance:Instance"
	invocationType = "aws:lambda/invocation:Invocation"
	parameterType  = "aws:ssm/parameter:Parameter"
	secretType     = "aws:secretsmanager/secret:Secret"
	redisType      = "aws:elasticache/replicationGroup:ReplicationGroup"
	serverlessType = "aws:elasticache/serverlessCache:ServerlessCache"
	keyType        = "aws:kms/key:Key"
)

// oneOfEachPlan is a stack with a tenant on every plan.
const oneOfEachPlan = `[
	{"id":"acme","plan":"enterprise"},
	{"id":"umbrella-corp","plan":"premium"},
	{"id":"globex","plan":"free"},
	{"id":"initech","plan":"basic"}
]`

// stack resolves a real preset with one tenant of each plan.
func stack(t *testing.T, sizing string, extra map[string]string) *config.Stack {
	t.Helper()
	values := map[string]string{
		"aws:region":                 "ap-northeast-1",
		"saas-platform:sizing":       sizing,
		"saas-platform:tenants":      oneOfEachPlan,
		"saas-platform:loadBalancer": `{"requireHttps":false}`,
	}
	for k, v := range extra {
		values[k] = v
	}
	s, err := config.Parse("saas-platform", sizing, values)
	require.NoError(t, err)
	return s
}

type built struct {
	resources []plan.Resource
	keyArn    string
}

// build runs the key and the data component for a resolved stack.
func build(t *testing.T, s *config.Stack) built {
	t.Helper()
	return buildAfter(t, s, nil)
}

// buildAfter is build after a deployment that made the legacy tenants'
// secrets and parameters as stack resources.
func buildAfter(t *testing.T, s *config.Stack, legacy map[string]bool) built {
	t.Helper()
	mocks := plan.NewMocks(s.Project, s.Name, s.Region)
	var keyArn string
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		key, err := data.NewEncryptionKey(ctx, "env", &data.EncryptionKeyArgs{
			Alias: "alias/test", Region: s.Region, LogGroupPatterns: []string{"/saas-platform/test/*"},
			Protect: s.DataProtection.Protect,
		})
		if err != nil {
			return err
		}
		key.Arn.ApplyT(func(arn string) error { keyArn = arn; return nil })
		_, err = data.NewData(ctx, "env", &data.DataArgs{
			Project: s.Project, Environment: s.Name, Region: s.Region, KeyArn: key.Arn,
			PathPrefix: "/saas-platform/" + s.Name,
			Network: data.NetworkInputs{
				PrivateSubnetIds:           pulumi.ToStringArray([]string{"subnet-private-a", "subnet-private-b"}),
				DatabaseSubnetGroupName:    pulumi.String("db-subnets"),
				CacheSubnetGroupName:       pulumi.String("cache-subnets"),
				CacheSubnetIds:             pulumi.ToStringArray([]string{"subnet-isolated-a", "subnet-isolated-b"}),
				DatabaseSecurityGroupId:    pulumi.String("sg-db"),
				CacheSecurityGroupId:       pulumi.String("sg-cache"),
				ProvisionerSecurityGroupId: pulumi.String("sg-provisioner"),
			},
			Database: s.Database, Cache: s.Cache, Tenants: s.Tenants, LegacyFacts: legacy, ServiceLogins: serviceLogins(s),
			LogRetentionDays: s.Logs.RetentionDays,
			Protect:          s.DataProtection.Protect, BackupPlan: s.DataProtection.BackupPlan,
			Backups: data.BackupSettings{MonthlyRetentionDays: s.DataProtection.MonthlyRetentionDays},
		})
		return err
	}, pulumi.WithMocks(s.Project, s.Name, mocks))
	require.NoError(t, err)
	require.NotEmpty(t, keyArn)
	return built{resources: mocks.Resources(), keyArn: keyArn}
}

// serviceLogins are the stack's services that use the database.
func serviceLogins(s *config.Stack) []pgcapacity.Service {
	return config.DatabaseLogins(s.Services)
}

func instance(t *testing.T, b built, identifier string) plan.Resource {
	t.Helper()
	for _, r := range plan.OfType(b.resources, instanceType) {
		if r.String("identifier") == identifier {
			return r
		}
	}
	t.Fatalf("no instance %s", identifier)
	return plan.Resource{}
}

func TestTheSharedDatabaseFollowsThePreset(t *testing.T) {
	cases := []struct {
		sizing             string
		class              string
		multiAz            bool
		storage, max       float64
		backups            float64
		insights           bool
		monitoring         float64
		logExports         []string
		protected          bool
		ignoresStorageSize bool
	}{
		{"dev", "db.t4g.micro", false, 20, 0, 1, false, 0, []string{}, false, false},
		{"prod", "db.r6g.large", true, 100, 1000, 14, true, 60, []string{"postgresql", "upgrade"}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			b := build(t, stack(t, tc.sizing, nil))
			db := instance(t, b, "saas-platform-"+tc.sizing)
			assert.Equal(t, tc.class, db.String("instanceClass"))
			assert.Equal(t, tc.multiAz, db.Bool("multiAz"))
			assert.Equal(t, tc.storage, db.Number("allocatedStorage"))
			assert.Equal(t, tc.max, db.Number("maxAllocatedStorage"))
			assert.Equal(t, tc.backups, db.Number("backupRetentionPeriod"))
			assert.Equal(t, tc.insights, db.Bool("performanceInsightsEnabled"))
			assert.Equal(t, tc.monitoring, db.Number("monitoringInterval"))
			assert.Equal(t, tc.logExports, db.Strings("enabledCloudwatchLogsExports"), "exports")
			if tc.monitoring > 0 {
				assert.Contains(t, db.String("monitoringRoleArn"), ":role/")
			}

			assert.Equal(t, "gp3", db.String("storageType"))
			assert.True(t, db.Bool("storageEncrypted"))
			assert.Equal(t, b.keyArn, db.String("kmsKeyId"), "encrypted with the environment's key")
			assert.True(t, db.Bool("manageMasterUserPassword"), "RDS manages the master password")
			assert.Nil(t, db.Input("password"), "no password in the program")
			assert.Equal(t, b.keyArn, db.String("masterUserSecretKmsKeyId"))
			assert.False(t, db.Bool("publiclyAccessible"))
			assert.Equal(t, "db-subnets", db.String("dbSubnetGroupName"))
			assert.Equal(t, []string{"sg-db"}, db.Strings("vpcSecurityGroupIds"))

			assert.Equal(t, tc.protected, db.Bool("deletionProtection"))
			assert.Equal(t, !tc.protected, db.Bool("skipFinalSnapshot"))
			assert.Equal(t, tc.protected, db.Options.Protect)
			if tc.protected {
				assert.Regexp(t, `^saas-platform-prod-final-[0-9a-f]{8}$`, db.String("finalSnapshotIdentifier"))
			} else {
				assert.Empty(t, db.String("finalSnapshotIdentifier"))
			}
			assert.Equal(t, tc.ignoresStorageSize, len(db.Options.IgnoreChanges) > 0, "storage autoscaling owns allocatedStorage")
		})
	}
}

func TestEveryInstanceSharesOneParameterGroupThatForcesTLS(t *testing.T) {
	b := build(t, stack(t, "prod", nil))
	groups := plan.OfType(b.resources, "aws:rds/parameterGroup:ParameterGroup")
	require.Len(t, groups, 1)
	assert.Equal(t, "postgres16", groups[0].String("family"))
	params := map[string]string{}
	for i := range groups[0].Count("parameters") {
		params[groups[0].String(fmt.Sprintf("parameters.%d.name", i))] = groups[0].String(fmt.Sprintf("parameters.%d.value", i))
	}
	assert.Equal(t, "1", params["rds.force_ssl"])

	instances := plan.OfType(b.resources, instanceType)
	require.Len(t, instances, 3, "shared + two silo tenants")
	for _, db := range instances {
		assert.Equal(t, instances[0].String("parameterGroupName"), db.String("parameterGroupName"), db.Name)
		assert.Equal(t, "db-subnets", db.String("dbSubnetGroupName"), db.Name)
	}
}

func TestTenantsGetWhatTheirPlanBuys(t *testing.T) {
	type silo struct {
		class   string
		storage float64
		multiAz bool
		backups float64
	}
	cases := []struct {
		sizing string
		silos  map[string]silo
	}{
		{"dev", map[string]silo{
			"acme":          {"db.t4g.micro", 20, false, 14},
			"umbrella-corp": {"db.t4g.micro", 20, false, 7},
		}},
		{"prod", map[string]silo{
			"acme":          {"db.r6g.large", 500, true, 14},
			"umbrella-corp": {"db.t4g.medium", 100, false, 7},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			b := build(t, stack(t, tc.sizing, nil))
			for id, want := range tc.silos {
				db := instance(t, b, "saas-platform-"+tc.sizing+"-"+id)
				assert.Equal(t, want.class, db.String("instanceClass"), id)
				assert.Equal(t, want.storage, db.Number("allocatedStorage"), id)
				assert.Equal(t, want.multiAz, db.Bool("multiAz"), id)
				assert.Equal(t, want.backups, db.Number("backupRetentionPeriod"), id)
				assert.Equal(t, map[string]any{"TenantId": id, "Plan": map[string]string{"acme": "enterprise", "umbrella-corp": "premium"}[id]}, db.Input("tags"))
				assert.True(t, db.Bool("storageEncrypted"), id)
				assert.Equal(t, b.keyArn, db.String("kmsKeyId"), id)
				assert.False(t, db.Bool("publiclyAccessible"), id)
			}

			invoked := map[string]float64{}
			for _, inv := range plan.OfType(b.resources, invocationType) {
				assert.Equal(t, "CRUD", inv.String("lifecycleScope"))
				var input struct {
					Database        string
					ConnectionLimit float64
					OnRemove        string
				}
				require.NoError(t, json.Unmarshal([]byte(inv.String("input")), &input))
				invoked[input.Database] = input.ConnectionLimit
				assert.Equal(t, config.OnRemoveKeep, input.OnRemove)
			}
			assert.Equal(t, map[string]float64{"globex": 5, "initech": 20, "acme": -1, "umbrella_corp": -1}, invoked,
				"pool tenants get a database and a login in their pool, silo tenants a login without a limit in their own instance")
			for _, r := range plan.OfType(b.resources, instanceType) {
				assert.NotContains(t, []string{"saas-platform-" + tc.sizing + "-globex", "saas-platform-" + tc.sizing + "-initech"},
					r.String("identifier"), "pool tenants get no instance")
			}
		})
	}
}

func TestSiloTenantsSurviveRemovalFromAProtectedStack(t *testing.T) {
	cases := []struct {
		name                             string
		sizing                           string
		tenants                          string
		protect, retained, finalSnapshot bool
	}{
		{"prod keeps them", "prod", oneOfEachPlan, true, true, true},
		{"dev lets them go", "dev", oneOfEachPlan, false, false, false},
		// The deletion asked for still leaves a final snapshot and the
		// automated backups, as docs/tenants.md promises.
		{"prod lets them go when marked onRemove drop", "prod", `[{"id":"acme","plan":"enterprise","onRemove":"drop"}]`, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := build(t, stack(t, tc.sizing, map[string]string{"saas-platform:tenants": tc.tenants}))
			db := instance(t, b, "saas-platform-"+tc.sizing+"-acme")
			assert.Equal(t, tc.protect, db.Options.Protect)
			assert.Equal(t, tc.retained, db.Options.RetainOnDelete)
			assert.Equal(t, tc.protect, db.Bool("deletionProtection"))
			assert.Equal(t, !tc.finalSnapshot, db.Bool("skipFinalSnapshot"))
			assert.Equal(t, tc.finalSnapshot, db.String("finalSnapshotIdentifier") != "")
			assert.Equal(t, !tc.finalSnapshot, db.Bool("deleteAutomatedBackups"))
		})
	}
}

// provisioned reads the provisioner's events, by tenant database.
func provisioned(t *testing.T, b built) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, inv := range plan.OfType(b.resources, invocationType) {
		var event map[string]any
		require.NoError(t, json.Unmarshal([]byte(inv.String("input")), &event))
		out[event["database"].(string)] = event
	}
	return out
}

func TestEveryTenantPublishesItsConnectionFactsUnderTheEnvironmentPrefix(t *testing.T) {
	b := build(t, stack(t, "prod", nil))
	facts := map[string][]string{}
	for _, p := range plan.OfType(b.resources, parameterType) {
		name := p.String("name")
		if !strings.HasPrefix(name, "/saas-platform/prod/tenants/") {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(name, "/saas-platform/prod/tenants/"), "/")
		facts[parts[0]] = append(facts[parts[0]], parts[1])
		assert.Equal(t, "SecureString", p.String("type"), name)
		assert.Equal(t, b.keyArn, p.String("keyId"), name)
		assert.Equal(t, parts[0], p.String("tags.TenantId"), name)
	}
	for _, id := range []string{"acme", "umbrella-corp"} {
		assert.ElementsMatch(t, []string{"host", "port", "database", "secret-arn"}, facts[id], id)
	}
	// Pool tenants' parameters are written by the provisioner, from the
	// invocation: the same path, key and tags.
	events := provisioned(t, b)
	for _, id := range []string{"globex", "initech"} {
		assert.Empty(t, facts[id], "%s's parameters are not stack resources", id)
		ev := events[id]
		assert.Equal(t, "/saas-platform/prod/tenants/"+id, ev["parameterPath"], id)
		assert.Equal(t, b.keyArn, ev["kmsKeyId"], id)
		assert.Equal(t, map[string]any{"TenantId": id, "Plan": map[string]string{"globex": "free", "initech": "basic"}[id], "Pool": "shared"}, ev["tags"], id)
	}
}

func TestPoolTenantSecretsAreMadeEncryptedByTheProvisionerAndNoPasswordPassesThroughPulumi(t *testing.T) {
	for _, sizing := range []string{"dev", "prod"} {
		t.Run(sizing, func(t *testing.T) {
			b := build(t, stack(t, sizing, nil))
			for _, s := range plan.OfType(b.resources, secretType) {
				assert.Equal(t, b.keyArn, s.String("kmsKeyId"), s.Name)
				for _, id := range []string{"globex", "initech"} {
					assert.NotContains(t, s.String("name"), "/tenants/"+id+"/", "a pool tenant's secret is the provisioner's")
				}
			}
			for _, v := range plan.OfType(b.resources, "aws:secretsmanager/secretVersion:SecretVersion") {
				assert.NotContains(t, v.Name, "tenant", "no tenant password passes through Pulumi")
			}
			events := provisioned(t, b)
			for _, id := range []string{"globex", "initech"} {
				assert.Equal(t, "saas-platform/"+sizing+"/tenants/"+id+"/database", events[id]["secretName"], id)
				assert.Equal(t, sizing == "prod", events[id]["protect"], "%s: a protected environment keeps a kept tenant's credentials", id)
			}
		})
	}
}

func TestAPoolTenantCostsTheStackTwoResources(t *testing.T) {
	b := build(t, stack(t, "prod", nil))
	for _, id := range []string{"globex", "initech"} {
		var own []string
		for _, r := range b.resources {
			if strings.HasSuffix(r.URN, "::env-tenant-"+id) {
				own = append(own, r.Type)
			}
		}
		assert.ElementsMatch(t, []string{"saas:data:TenantDatabase", invocationType}, own, id)
	}
}

func TestAfterADeploymentThatMadeThemTheLegacySecretAndParametersStayOnceMoreRetainedOnDelete(t *testing.T) {
	b := buildAfter(t, stack(t, "dev", nil), map[string]bool{"globex": true})
	legacy := 0
	for _, r := range b.resources {
		if !strings.HasSuffix(r.URN, "::env-tenant-globex") && !strings.Contains(r.URN, "::env-tenant-globex-") {
			continue
		}
		switch r.Type {
		case secretType, parameterType:
			legacy++
			assert.True(t, r.Options.RetainOnDelete, "%s: the next deployment drops it from the stack without deleting it", r.Name)
		}
	}
	assert.Equal(t, 5, legacy, "the secret and four parameters, as the previous deployment made them")
	secret, ok := plan.Named(b.resources, secretType, "env-tenant-globex")
	require.True(t, ok)
	assert.Equal(t, "saas-platform/dev/tenants/globex/database", secret.String("name"))
	assert.Equal(t, map[string]any{"TenantId": "globex", "Plan": "free"}, secret.Input("tags"), "unchanged: no update")
	assert.Equal(t, "saas-platform/dev/tenants/globex/database", provisioned(t, b)["globex"]["secretName"], "which the provisioner adopts by name")
}

func TestRedisNodesFollowThePresetAndAreAlwaysEncryptedAndAuthenticated(t *testing.T) {
	cases := []struct {
		sizing       string
		cache        string
		clusterMode  string
		shards       float64
		replicas     float64
		cacheNodes   float64
		failover     bool
		clusterParam string
		snapshots    float64
	}{
		{"dev", `{"mode":"nodes"}`, "enabled", 1, 1, 0, true, "yes", 1},
		{"prod", ``, "enabled", 3, 1, 0, true, "yes", 7},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			b := build(t, stack(t, tc.sizing, map[string]string{"saas-platform:cache": tc.cache}))
			groups := plan.OfType(b.resources, redisType)
			require.Len(t, groups, 1)
			rg := groups[0]
			assert.Equal(t, tc.clusterMode, rg.String("clusterMode"))
			assert.Equal(t, tc.shards, rg.Number("numNodeGroups"))
			assert.Equal(t, tc.replicas, rg.Number("replicasPerNodeGroup"))
			assert.Equal(t, tc.cacheNodes, rg.Number("numCacheClusters"))
			assert.Equal(t, tc.failover, rg.Bool("automaticFailoverEnabled"))
			assert.Equal(t, tc.failover, rg.Bool("multiAzEnabled"))
			assert.Equal(t, tc.snapshots, rg.Number("snapshotRetentionLimit"))

			assert.True(t, rg.Bool("atRestEncryptionEnabled"))
			assert.Equal(t, b.keyArn, rg.String("kmsKeyId"))
			assert.True(t, rg.Bool("transitEncryptionEnabled"))
			assert.Equal(t, "[secret]", rg.String("authToken"), "AUTH is required and secret")
			assert.Equal(t, "7.1", rg.String("engineVersion"))
			assert.Equal(t, float64(6379), rg.Number("port"))
			assert.Equal(t, "sun:05:00-sun:06:00", rg.String("maintenanceWindow"))
			assert.Equal(t, "03:00-04:00", rg.String("snapshotWindow"))
			assert.Equal(t, []string{"sg-cache"}, rg.Strings("securityGroupIds"))
			assert.Equal(t, "cache-subnets", rg.String("subnetGroupName"))
			assert.Equal(t, "slow-log", rg.String("logDeliveryConfigurations.0.logType"))
			assert.Equal(t, "cloudwatch-logs", rg.String("logDeliveryConfigurations.0.destinationType"))

			params := plan.OfType(b.resources, "aws:elasticache/parameterGroup:ParameterGroup")
			require.Len(t, params, 1)
			assert.Equal(t, "cluster-enabled", params[0].String("parameters.0.name"))
			assert.Equal(t, tc.clusterParam, params[0].String("parameters.0.value"))

			_, ok := plan.Named(b.resources, parameterType, "env-redis-endpoint")
			assert.True(t, ok, "the endpoint is published in SSM")
		})
	}
}

func TestDevsServerlessCacheTakesTheAuthTokenThroughItsDefaultUser(t *testing.T) {
	b := build(t, stack(t, "dev", nil))
	assert.Empty(t, plan.OfType(b.resources, redisType), "no replication group")
	assert.Empty(t, plan.OfType(b.resources, "aws:elasticache/parameterGroup:ParameterGroup"))
	caches := plan.OfType(b.resources, serverlessType)
	require.Len(t, caches, 1)
	c := caches[0]
	assert.Equal(t, "saas-platform-dev-valkey", c.String("name"), "not the replication group's id, which a mode switch deletes after")
	assert.Equal(t, "valkey", c.String("engine"))
	assert.Equal(t, "8", c.String("majorEngineVersion"))
	assert.Equal(t, b.keyArn, c.String("kmsKeyId"), "encrypted at rest with the stack's key")
	assert.Equal(t, []string{"subnet-isolated-a", "subnet-isolated-b"}, c.Strings("subnetIds"))
	assert.Equal(t, []string{"sg-cache"}, c.Strings("securityGroupIds"))
	assert.Equal(t, float64(1), c.Number("cacheUsageLimits.dataStorage.maximum"))
	assert.Equal(t, "GB", c.String("cacheUsageLimits.dataStorage.unit"))
	assert.Equal(t, float64(1000), c.Number("cacheUsageLimits.ecpuPerSeconds.0.maximum"))
	assert.Equal(t, "03:00", c.String("dailySnapshotTime"))
	assert.Equal(t, float64(1), c.Number("snapshotRetentionLimit"))

	users := plan.OfType(b.resources, "aws:elasticache/user:User")
	require.Len(t, users, 1)
	u := users[0]
	assert.Equal(t, "default", u.String("userName"), "AUTH <password> authenticates as the user named default")
	assert.Equal(t, "saas-platform-dev-default", u.String("userId"), "not AWS's own default user")
	assert.Equal(t, "valkey", u.String("engine"))
	assert.Equal(t, "password", u.String("authenticationMode.type"))
	assert.Equal(t, []string{"[secret]"}, u.Strings("authenticationMode.passwords"), "the AUTH token, secret")
	assert.Equal(t, data.CacheAccessString, u.String("accessString"))
	groups := plan.OfType(b.resources, "aws:elasticache/userGroup:UserGroup")
	require.Len(t, groups, 1)
	assert.Equal(t, []string{"saas-platform-dev-default"}, groups[0].Strings("userIds"))
	assert.Equal(t, groups[0].String("userGroupId"), c.String("userGroupId"), "the cache takes only that group's users")

	// The password is the AUTH token the services are given: one value,
	// written to the secret they read.
	tokens := plan.OfType(b.resources, "random:index/randomPassword:RandomPassword")
	var auth []plan.Resource
	for _, tok := range tokens {
		if strings.HasSuffix(tok.Name, "-redis-auth") {
			auth = append(auth, tok)
		}
	}
	require.Len(t, auth, 1, "one token, for the user and the secret")
	assert.Contains(t, u.Dependencies, auth[0].URN)
	_, ok := plan.Named(b.resources, parameterType, "env-redis-endpoint")
	assert.True(t, ok, "the endpoint is published in SSM")
}

func TestACacheUserIdStaysWithinElastiCachesLimitAndUnique(t *testing.T) {
	cases := []struct{ name, identifier string }{
		{"a short identifier keeps its words", "saas-platform-dev"},
		{"a long identifier is shortened with a hash", "a-very-long-project-name-for-a-stack-called-staging"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := data.CacheUserID(tc.identifier)
			assert.LessOrEqual(t, len(id), 40)
			assert.True(t, strings.HasSuffix(id, "-default"))
			assert.NotEqual(t, "default", id)
		})
	}
	assert.NotEqual(t, data.CacheUserID("a-very-long-project-name-for-a-stack-called-staging"),
		data.CacheUserID("a-very-long-project-name-for-a-stack-called-testing"))
}

func TestTheKeyRotatesAndLetsOnlyThisEnvironmentsLogGroupsUseIt(t *testing.T) {
	for _, sizing := range []string{"dev", "prod"} {
		t.Run(sizing, func(t *testing.T) {
			b := build(t, stack(t, sizing, nil))
			keys := plan.OfType(b.resources, keyType)
			require.Len(t, keys, 1)
			assert.True(t, keys[0].Bool("enableKeyRotation"))
			assert.Equal(t, sizing == "prod", keys[0].Options.Protect)
			var policy struct {
				Statement []struct {
					Principal map[string][]string
					Condition map[string]map[string][]string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(keys[0].String("policy")), &policy))
			require.Len(t, policy.Statement, 3)
			assert.Equal(t, []string{"logs.ap-northeast-1.amazonaws.com"}, policy.Statement[1].Principal["Service"])
			assert.Equal(t, []string{"arn:aws:logs:ap-northeast-1:" + plan.AccountID + ":log-group:/saas-platform/test/*"},
				policy.Statement[1].Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
		})
	}
}

func TestProdBacksUpTheSharedAndSiloDatabases(t *testing.T) {
	dev := build(t, stack(t, "dev", nil))
	assert.Empty(t, plan.OfType(dev.resources, "aws:backup/plan:Plan"), "dev relies on RDS's own backups")

	prod := build(t, stack(t, "prod", nil))
	vaults := plan.OfType(prod.resources, "aws:backup/vault:Vault")
	require.Len(t, vaults, 1)
	assert.Equal(t, prod.keyArn, vaults[0].String("kmsKeyArn"))
	assert.True(t, vaults[0].Options.Protect)

	plans := plan.OfType(prod.resources, "aws:backup/plan:Plan")
	require.Len(t, plans, 1)
	keep := map[string]float64{}
	for i := range plans[0].Count("rules") {
		keep[plans[0].String(fmt.Sprintf("rules.%d.ruleName", i))] = plans[0].Number(fmt.Sprintf("rules.%d.lifecycle.deleteAfter", i))
	}
	assert.Equal(t, map[string]float64{"daily": 35, "weekly": 90, "monthly": 1825}, keep)

	selections := plan.OfType(prod.resources, "aws:backup/selection:Selection")
	require.Len(t, selections, 1)
	assert.ElementsMatch(t, []string{
		"arn:aws:rds:ap-northeast-1:" + plan.AccountID + ":db:saas-platform-prod",
		"arn:aws:rds:ap-northeast-1:" + plan.AccountID + ":db:saas-platform-prod-acme",
		"arn:aws:rds:ap-northeast-1:" + plan.AccountID + ":db:saas-platform-prod-umbrella-corp",
	}, selections[0].Strings("resources"))
}

func TestTheProvisionerRunsPrivatelyWithLeastPrivilege(t *testing.T) {
	b := build(t, stack(t, "prod", nil))
	functions := plan.OfType(b.resources, "aws:lambda/function:Function")
	require.Len(t, functions, 1)
	fn := functions[0]
	assert.Equal(t, "provided.al2023", fn.String("runtime"))
	assert.Equal(t, []string{"arm64"}, fn.Strings("architectures"))
	assert.Equal(t, []string{"subnet-private-a", "subnet-private-b"}, fn.Strings("vpcConfig.subnetIds"))
	assert.Equal(t, []string{"sg-provisioner"}, fn.Strings("vpcConfig.securityGroupIds"))
	assert.Equal(t, "/saas-platform/prod/lambda/tenant-provisioner", fn.String("loggingConfig.logGroup"))

	policy, ok := plan.Named(b.resources, "aws:iam/rolePolicy:RolePolicy", "env-tenant-provisioner")
	require.True(t, ok)
	var doc struct {
		Statement []struct {
			Sid      string
			Action   []string
			Resource []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(policy.String("policy")), &doc))
	for _, s := range doc.Statement {
		for _, r := range s.Resource {
			assert.NotEqual(t, "*", r, "%s is not scoped", s.Sid)
		}
		if s.Sid == "TenantCredentials" {
			assert.Equal(t, []string{"arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:saas-platform/prod/tenants/*"}, s.Resource)
		}
	}
}

func TestAStackWithoutTenantsOrDatabaseUsersHasNoProvisioner(t *testing.T) {
	b := build(t, stack(t, "dev", map[string]string{"saas-platform:tenants": `[]`}))
	assert.Empty(t, plan.OfType(b.resources, "aws:lambda/function:Function"))
	assert.Empty(t, plan.OfType(b.resources, invocationType))
}

// statements reads a role policy's statements by Sid.
func statements(t *testing.T, b built, name string) map[string][]string {
	t.Helper()
	p, ok := plan.Named(b.resources, "aws:iam/rolePolicy:RolePolicy", name)
	require.True(t, ok, name)
	var doc struct {
		Statement []struct {
			Sid      string
			Resource []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc))
	out := map[string][]string{}
	for _, st := range doc.Statement {
		out[st.Sid] = st.Resource
	}
	return out
}

func TestASiloTenantsCredentialsAreALoginOfItsOwnNotTheMasterSecret(t *testing.T) {
	b := build(t, stack(t, "prod", map[string]string{"saas-platform:tenants": `[{"id":"acme","plan":"premium"}]`}))
	shared := statements(t, b, "env-tenant-provisioner")["MasterCredentials"]
	require.Len(t, shared, 1)

	secret, ok := plan.Named(b.resources, secretType, "env-tenant-acme")
	require.True(t, ok, "the tenant's credentials live in a secret of its own")
	assert.Equal(t, "saas-platform/prod/tenants/acme/database", secret.String("name"))

	login, ok := plan.Named(b.resources, invocationType, "env-tenant-acme-login")
	require.True(t, ok, "the provisioner creates the tenant's login in its instance")
	var input struct {
		Database, Host, MasterSecretArn, TenantSecretArn, OnRemove string
		ConnectionLimit                                            float64
	}
	require.NoError(t, json.Unmarshal([]byte(login.String("input")), &input))
	assert.Equal(t, "acme", input.Database)
	assert.Contains(t, input.MasterSecretArn, ":secret:rds!db-", "as the instance's master user")
	assert.NotEqual(t, shared[0], input.MasterSecretArn, "of its own instance, not the shared one")
	assert.True(t, strings.HasPrefix(input.Host, "saas-platform-prod-acme."), input.Host)
	master := input.MasterSecretArn
	assert.Equal(t, config.OnRemoveKeep, input.OnRemove, "the data go with the instance and its final snapshot, never with the login")
	assert.Contains(t, input.TenantSecretArn, "saas-platform/prod/tenants/acme/database")

	assert.Equal(t, []string{master}, statements(t, b, "env-tenant-provisioner-silo-masters")["SiloMasterCredentials"],
		"the provisioner, and only it, reads the silo instance's master secret")
	assert.Contains(t, login.Dependencies, "urn:pulumi:prod::saas-platform::saas:data:Data$aws:iam/rolePolicy:RolePolicy::env-tenant-provisioner-silo-masters",
		"the login waits for that permission")
}

func TestEachServiceThatUsesTheDatabaseGetsItsOwnLoginFromTheProvisioner(t *testing.T) {
	b := build(t, stack(t, "dev", map[string]string{"saas-platform:imageTag": "v1", "saas-platform:services": `[
		{"name":"api","port":3000,"secrets":{"DATABASE_URL":"${database.url}"},"databaseConnections":7,"desiredCount":3},
		{"name":"collaboration","port":3001,"environment":{"DB_HOST":"${database.host}"}},
		{"name":"dashboard","port":80}]`}))
	shared := statements(t, b, "env-tenant-provisioner")["MasterCredentials"]
	require.Len(t, shared, 1)
	logins, limits := map[string]string{}, map[string]int{}
	for _, inv := range plan.OfType(b.resources, invocationType) {
		var input struct {
			Kind, Login, Database, MasterSecretArn, SecretArn string
			ConnectionLimit                                   int
		}
		require.NoError(t, json.Unmarshal([]byte(inv.String("input")), &input))
		if input.Kind != "serviceLogin" {
			continue
		}
		logins[input.Login] = input.SecretArn
		limits[input.Login] = input.ConnectionLimit
		assert.Equal(t, data.SharedDatabaseName, input.Database)
		assert.Equal(t, shared[0], input.MasterSecretArn, "the provisioner logs in as the shared instance's master user")
	}
	assert.Equal(t, map[string]string{
		"svc-api":           "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:saas-platform/dev/services/api/database-AbCdEf",
		"svc-collaboration": "arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:saas-platform/dev/services/collaboration/database-AbCdEf",
	}, logins, "one login per service that uses the database, each in its own secret; none for the dashboard")
	assert.Equal(t, map[string]int{"svc-api": 7 * 3, "svc-collaboration": 10 * 1}, limits,
		"each login is capped at what the capacity rule counts: databaseConnections (default 10) x the most tasks")
	for _, name := range []string{"api", "collaboration"} {
		secret, ok := plan.Named(b.resources, secretType, "env-login-"+name)
		require.True(t, ok)
		assert.Equal(t, b.keyArn, secret.String("kmsKeyId"))
		_, hasValue := plan.Named(b.resources, "aws:secretsmanager/secretVersion:SecretVersion", "env-login-"+name)
		assert.False(t, hasValue, "the password is written by the provisioner, never by Pulumi")
	}
	assert.Equal(t, []string{"arn:aws:secretsmanager:ap-northeast-1:" + plan.AccountID + ":secret:saas-platform/dev/services/*"},
		statements(t, b, "env-tenant-provisioner")["ServiceLoginCredentials"])
}
