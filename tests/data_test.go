package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	instanceType = "aws:rds/instance:Instance"
	redisType    = "aws:elasticache/replicationGroup:ReplicationGroup"
)

func sharedInstance(t *testing.T, result *plan.Result) plan.Resource {
	t.Helper()
	for _, r := range plan.OfType(result.Resources, instanceType) {
		if r.String("identifier") == "saas-platform-"+result.Stack {
			return r
		}
	}
	t.Fatal("no shared instance")
	return plan.Resource{}
}

func TestProdDataIsHighlyAvailableEncryptedProtectedAndBackedUp(t *testing.T) {
	result := planStack(t, "prod")
	key, ok := plan.Named(result.Resources, "aws:kms/key:Key", "saas-platform-prod")
	require.True(t, ok, "the environment's key")
	assert.True(t, key.Bool("enableKeyRotation"))
	keyArn, _ := result.Outputs["keyArn"].(string)
	require.NotEmpty(t, keyArn)

	db := sharedInstance(t, result)
	assert.True(t, db.Bool("multiAz"))
	assert.True(t, db.Bool("storageEncrypted"))
	assert.Equal(t, keyArn, db.String("kmsKeyId"))
	assert.True(t, db.Bool("deletionProtection"))
	assert.True(t, db.Bool("manageMasterUserPassword"))
	assert.False(t, db.Bool("publiclyAccessible"))
	assert.NotEmpty(t, db.String("finalSnapshotIdentifier"))
	assert.True(t, db.Options.Protect)

	redis := plan.OfType(result.Resources, redisType)
	require.Len(t, redis, 1)
	assert.Equal(t, 3.0, redis[0].Number("numNodeGroups"))
	assert.Equal(t, 1.0, redis[0].Number("replicasPerNodeGroup"))
	assert.True(t, redis[0].Bool("atRestEncryptionEnabled"))
	assert.True(t, redis[0].Bool("transitEncryptionEnabled"))
	assert.True(t, redis[0].Bool("multiAzEnabled"))
	assert.True(t, redis[0].Bool("automaticFailoverEnabled"))

	assert.Len(t, plan.OfType(result.Resources, "aws:backup/plan:Plan"), 1)
	assert.Len(t, plan.OfType(result.Resources, "aws:backup/selection:Selection"), 1)
}

func TestDeployOrderKeepsWhatEachResourceNeedsInPlace(t *testing.T) {
	result := planStack(t, "prod")
	network := "urn:pulumi:prod::saas-platform::saas:platform:Platform$saas:network:Network$"
	for _, inv := range plan.OfType(result.Resources, "aws:lambda/invocation:Invocation") {
		// It runs on removal too: its path to the database must outlive it.
		for _, needed := range []string{
			network + "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::saas-platform-prod-provisioner-out-postgres",
			network + "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::saas-platform-prod-db-in-provisioner",
			network + "awsx:ec2:Vpc::saas-platform-prod",
		} {
			assert.True(t, slices.Contains(inv.Dependencies, needed), "%s does not depend on %s", inv.Name, needed)
		}
	}
	for _, db := range plan.OfType(result.Resources, instanceType) {
		assert.Contains(t, strings.Join(db.Dependencies, " "), "aws:iam/rolePolicyAttachment:RolePolicyAttachment::saas-platform-prod-rds-monitoring",
			"%s is monitored only once the role may publish", db.Name)
	}
	logs, ok := plan.Named(result.Resources, "aws:s3/bucketPolicy:BucketPolicy", "saas-platform-prod-access-logs")
	require.True(t, ok)
	assert.Contains(t, logs.String("policy"), "logdelivery.elasticloadbalancing.amazonaws.com", "newer regions deliver ALB logs from this service")
}

func TestDevDataIsEncryptedButDisposable(t *testing.T) {
	result := planStack(t, "dev")
	db := sharedInstance(t, result)
	assert.True(t, db.Bool("skipFinalSnapshot"))
	assert.False(t, db.Bool("deletionProtection"))
	assert.True(t, db.Bool("storageEncrypted"))
	// Dev's cache is serverless: always encrypted, at rest with the key.
	cache := plan.OfType(result.Resources, "aws:elasticache/serverlessCache:ServerlessCache")
	require.Len(t, cache, 1)
	assert.Equal(t, result.Outputs["keyArn"], cache[0].String("kmsKeyId"))
	assert.False(t, cache[0].Options.Protect, "disposable")
	assert.Empty(t, plan.OfType(result.Resources, "aws:backup/plan:Plan"))
}

func TestNoDataStoreIsPublicAndEveryOneIsEncrypted(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			for _, db := range plan.OfType(result.Resources, instanceType) {
				assert.False(t, db.Bool("publiclyAccessible"), db.Name)
				assert.True(t, db.Bool("storageEncrypted"), db.Name)
			}
			for _, group := range plan.OfType(result.Resources, "aws:cloudwatch/logGroup:LogGroup") {
				assert.NotEmpty(t, group.String("kmsKeyId"), "%s is not encrypted with the key", group.Name)
			}
			for _, secret := range plan.OfType(result.Resources, "aws:secretsmanager/secret:Secret") {
				assert.NotEmpty(t, secret.String("kmsKeyId"), secret.Name)
			}
			for _, p := range plan.OfType(result.Resources, "aws:ssm/parameter:Parameter") {
				assert.Equal(t, "SecureString", p.String("type"), p.Name)
			}
		})
	}
}

func TestTheTenantsOutputMapsEachTenantToHowToReachIt(t *testing.T) {
	result := planStack(t, "prod")
	tenants, ok := result.Outputs["tenants"].(map[string]any)
	require.True(t, ok)
	require.Len(t, tenants, 4)
	acme := tenants["acme"].(map[string]any)
	assert.Equal(t, "enterprise", acme["plan"])
	assert.Equal(t, "silo", acme["isolation"])
	assert.Contains(t, acme["host"], "saas-platform-prod-acme.")
	globex := tenants["globex"].(map[string]any)
	assert.Equal(t, "pool", globex["isolation"])
	assert.Equal(t, result.Outputs["databaseAddress"], globex["host"], "pool tenants live in the shared instance")
	assert.Contains(t, globex["secretArn"], "saas-platform/prod/tenants/globex/database")
}

func TestNoSecretValueReachesThePlan(t *testing.T) {
	code, stdout, stderr := runPlan("--stack", "prod", "--format", "json")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stdout, "mock-", "the mock's generated secrets must show as [secret]")
	assert.Contains(t, stdout, `"authToken": "[secret]"`)
}

// previousOutputs writes stack outputs as `pulumi stack output --json` would.
func previousOutputs(t *testing.T, outputs map[string]any) string {
	path := filepath.Join(t.TempDir(), "previous.json")
	data, err := json.Marshal(outputs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func deployedTenant(plan, isolation string, storage int) map[string]any {
	return map[string]any{"plan": plan, "isolation": isolation, "allocatedStorage": storage}
}

func TestPlanChangesAWSCannotMakeInPlaceAreRefusedBeforeAnythingIsRegistered(t *testing.T) {
	cases := []struct {
		name     string
		previous map[string]any
		key      string
		message  string
	}{
		{"a pool tenant moved to a silo plan",
			map[string]any{"tenants": map[string]any{"umbrella": deployedTenant("free", "pool", 0)}},
			"saas-platform:tenants[1].plan", "pg_dump"},
		{"a silo tenant moved to a pool plan",
			map[string]any{"tenants": map[string]any{"globex": deployedTenant("premium", "silo", 100)}},
			"saas-platform:tenants[2].plan", "cannot move in place"},
		{"a silo tenant whose storage would shrink",
			map[string]any{"tenants": map[string]any{"umbrella": deployedTenant("enterprise", "silo", 500)}},
			"saas-platform:tenants[1].plan", "shrink tenant umbrella's storage from 500 to 100 GiB"},
		{"redis cluster mode switched off",
			map[string]any{"cacheClusterMode": false},
			"saas-platform:cache.clusterMode", "cannot change on the deployed replication group"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runPlan("--stack", "prod", "--previous", previousOutputs(t, tc.previous))
			assert.Equal(t, 1, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.key)
			assert.Contains(t, stderr, tc.message)
		})
	}
}

func TestAnEarlierJSONPlanServesAsThePreviousDeployment(t *testing.T) {
	// A plan of prod with globex on a silo plan, then prod's stack file,
	// where globex is free: the move from silo to pool is refused.
	code, earlier, stderr := runPlan("--config", writeStackFile(t, strings.Replace(readFile(t, "../Pulumi.prod.yaml"),
		"{id: globex, plan: free}", "{id: globex, plan: premium}", 1)), "--stack", "prod", "--format", "json")
	require.Equal(t, 0, code, stderr)
	path := filepath.Join(t.TempDir(), "earlier-plan.json")
	require.NoError(t, os.WriteFile(path, []byte(earlier), 0o600))

	code, stdout, stderr := runPlan("--stack", "prod", "--previous", path)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "saas-platform:tenants[2].plan")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func writeStackFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Pulumi.prod.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestPlanChangesAWSCanMakeInPlaceArePlanned(t *testing.T) {
	// Prod's stack file has acme on enterprise and initech on basic.
	previous := map[string]any{
		"tenants": map[string]any{
			"acme":    deployedTenant("premium", "silo", 100), // upgrade: bigger class, storage grows
			"initech": deployedTenant("free", "pool", 0),      // free -> basic: a new connection limit
		},
		"cacheClusterMode": true,
	}
	code, stdout, stderr := runPlan("--stack", "prod", "--format", "json", "--previous", previousOutputs(t, previous))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"identifier": "saas-platform-prod-acme"`)
}

// scaleStack writes a prod stack file with n pool tenants, half basic and
// half free, spread round-robin over the shared instance and pools more
// pools, every instance of class.
func scaleStack(t testing.TB, n, pools int, class string) string {
	var b strings.Builder
	b.WriteString("config:\n  aws:region: ap-northeast-1\n  saas-platform:sizing: prod\n")
	b.WriteString("  saas-platform:domain: {certificateArn: arn:aws:acm:ap-northeast-1:123456789012:certificate/abc}\n")
	fmt.Fprintf(&b, "  saas-platform:database:\n    instanceClass: %s\n    pools:\n", class)
	for p := 1; p <= pools; p++ {
		fmt.Fprintf(&b, "      - {name: p%d}\n", p)
	}
	b.WriteString("  saas-platform:tenants:\n")
	for i := 0; i < n; i++ {
		pool := "shared"
		if k := i % (pools + 1); k > 0 {
			pool = fmt.Sprintf("p%d", k)
		}
		fmt.Fprintf(&b, "    - {id: t%05d, plan: %s, pool: %s}\n", i, []string{"free", "basic"}[(i/(pools+1))%2], pool)
	}
	path := filepath.Join(t.TempDir(), "Pulumi.scale.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// peakRSSMiB is the process's peak resident memory so far (Linux).
func peakRSSMiB() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kib)
			return kib / 1024
		}
	}
	return 0
}

// TestTenThousandPoolTenantsOver26InstancesPlanInUnderTwentySecondsAndTwoGigabytes
// is the scale target, asserted with room for a loaded CI machine:
// the benchmark below gives the figures.
func TestTenThousandPoolTenantsOver26InstancesPlanInUnderTwentySecondsAndTwoGigabytes(t *testing.T) {
	if testing.Short() {
		t.Skip("plans 10,000 tenants")
	}
	sf, err := config.ReadStackFile(scaleStack(t, 10000, 25, "db.r6g.2xlarge"), "saas-platform")
	require.NoError(t, err)
	start := time.Now()
	result, err := plan.Run("saas-platform", "scale", sf, nil)
	elapsed := time.Since(start)
	require.NoError(t, err)
	t.Logf("planned %d resources for 10,000 pool tenants in %s, peak RSS %.0f MiB", len(result.Resources), elapsed.Round(time.Millisecond), peakRSSMiB())
	assert.Less(t, elapsed, 20*time.Second)
	assert.Less(t, peakRSSMiB(), 2048.0)
	assert.Len(t, plan.OfType(result.Resources, instanceType), 26, "one instance per pool")
	assert.Len(t, plan.OfType(result.Resources, "aws:lambda/invocation:Invocation"), 10000)
}

// BenchmarkPlanOf10000PoolTenantsOver26Instances plans 10,000 pool tenants
// (5,000 basic, 5,000 free: 125,000 connections) over the shared instance
// and 25 pools of db.r6g.2xlarge (4,985 connections each for tenants). The
// target is under 20 s and 2 GB on a 2-core machine:
//
//	go test ./tests -run '^$' -bench PlanOf10000 -benchtime 1x
//
// It reports the resources planned and the test binary's peak memory.
func BenchmarkPlanOf10000PoolTenantsOver26Instances(b *testing.B) {
	sf, err := config.ReadStackFile(scaleStack(b, 10000, 25, "db.r6g.2xlarge"), "saas-platform")
	require.NoError(b, err)
	b.ResetTimer()
	resources := 0
	for i := 0; i < b.N; i++ {
		result, err := plan.Run("saas-platform", "scale", sf, nil)
		if err != nil {
			b.Fatal(err)
		}
		resources = len(result.Resources)
	}
	b.ReportMetric(float64(resources), "resources")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

// manyTenants writes a prod-sized stack file with pool and silo tenants,
// the pool tenants spread round-robin over the shared instance and pools
// more pools (none: every pool tenant on the shared instance).
func manyTenants(t testing.TB, pool, silo, pools int) string {
	var b strings.Builder
	b.WriteString("config:\n  aws:region: ap-northeast-1\n  saas-platform:sizing: prod\n")
	b.WriteString("  saas-platform:domain: {certificateArn: arn:aws:acm:ap-northeast-1:123456789012:certificate/abc}\n")
	if pools > 0 {
		b.WriteString("  saas-platform:database:\n    pools:\n")
		for p := 1; p <= pools; p++ {
			fmt.Fprintf(&b, "      - {name: p%d}\n", p)
		}
	}
	b.WriteString("  saas-platform:tenants:\n")
	for i := 0; i < pool; i++ {
		placement := ""
		if n := i % (pools + 1); n > 0 {
			placement = fmt.Sprintf(", pool: p%d", n)
		}
		fmt.Fprintf(&b, "    - {id: pool-%05d, plan: %s%s}\n", i, []string{"free", "basic"}[(i/(pools+1))%2], placement)
	}
	for i := 0; i < silo; i++ {
		fmt.Fprintf(&b, "    - {id: silo-%02d, plan: %s}\n", i, []string{"premium", "enterprise"}[i%2])
	}
	path := filepath.Join(t.TempDir(), "Pulumi.scale.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

func TestSixHundredPoolTenantsOnOneInstanceAreRefusedWithTheConnectionNumbers(t *testing.T) {
	code, stdout, stderr := runPlan("--config", manyTenants(t, 600, 0, 0), "--stack", "scale")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "saas-platform:database.instanceClass")
	assert.Contains(t, stderr, "its 600 pool tenants may open 7500 connections, 5713 more than the 1787 allowed")
	assert.Contains(t, stderr, "max_connections 1802 (RDS's default for db.r6g.large)")
}

func TestSixHundredPoolTenantsOverFivePoolsAndTwelveSiloTenantsPlanAnInstanceEachAndEveryTenantsFacts(t *testing.T) {
	start := time.Now()
	result, err := plan.RunStackFile("..", manyTenants(t, 600, 12, 4), "scale")
	require.NoError(t, err)
	t.Logf("planned %d resources for 612 tenants in %s", len(result.Resources), time.Since(start).Round(time.Millisecond))

	instances := plan.OfType(result.Resources, instanceType)
	assert.Len(t, instances, 17, "the shared instance, 4 pools and 12 silo tenants")
	pools := map[string]plan.Resource{}
	for _, db := range instances {
		id := db.String("identifier")
		if rest, ok := strings.CutPrefix(id, "saas-platform-scale-pool-"); ok {
			pools[rest] = db
			continue
		}
		if id == "saas-platform-scale" {
			continue
		}
		plan := db.String("tags.Plan")
		assert.Contains(t, []string{"premium", "enterprise"}, plan, db.Name)
		assert.NotEmpty(t, db.String("tags.TenantId"), db.Name)
		assert.Equal(t, plan == "enterprise", db.Bool("multiAz"), db.Name)
	}
	require.Len(t, pools, 4)
	selection := plan.OfType(result.Resources, "aws:backup/selection:Selection")
	require.Len(t, selection, 1)
	alarmed := map[string]int{}
	for _, alarm := range plan.OfType(result.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		alarmed[alarm.String("dimensions.DBInstanceIdentifier")]++
	}
	shared := sharedInstance(t, result)
	for name, db := range pools {
		// Hardened exactly as the shared instance.
		for _, key := range []string{"instanceClass", "multiAz", "storageEncrypted", "kmsKeyId", "deletionProtection", "parameterGroupName",
			"vpcSecurityGroupIds", "dbSubnetGroupName", "backupRetentionPeriod", "performanceInsightsEnabled", "monitoringInterval",
			"enabledCloudwatchLogsExports", "manageMasterUserPassword", "publiclyAccessible", "caCertIdentifier", "maxAllocatedStorage"} {
			assert.Equal(t, shared.Inputs[key], db.Inputs[key], "pool %s: %s", name, key)
		}
		assert.True(t, db.Options.Protect, name)
		assert.NotEmpty(t, db.String("finalSnapshotIdentifier"), name)
		assert.Equal(t, name, db.String("tags.Pool"))
		assert.Contains(t, selection[0].Inputs["resources"], "arn:aws:rds:ap-northeast-1:123456789012:db:"+db.String("identifier"), "pool %s is in the backup plan", name)
		assert.Equal(t, alarmed["saas-platform-scale"], alarmed[db.String("identifier")], "pool %s has the shared instance's alarms", name)
	}

	facts := map[string]int{}
	hosts := map[string]string{}
	for _, p := range plan.OfType(result.Resources, "aws:ssm/parameter:Parameter") {
		if rest, ok := strings.CutPrefix(p.String("name"), "/saas-platform/scale/tenants/"); ok {
			facts[strings.Split(rest, "/")[0]]++
		}
		if rest, ok := strings.CutPrefix(p.String("name"), "/saas-platform/scale/database/pools/"); ok && strings.HasSuffix(rest, "/host") {
			hosts[strings.TrimSuffix(rest, "/host")] = p.String("value")
		}
	}
	assert.Len(t, facts, 12, "silo tenants' facts are stack resources")
	for id, n := range facts {
		assert.Equal(t, 4, n, id)
	}
	assert.Len(t, hosts, 4, "each pool's connection facts are published")
	// Pool tenants' facts are the provisioner's, from its invocation: each
	// pool tenant's names its pool's instance and its own parameter path.
	// Silo tenants' logins are invocations too (their secret and facts are
	// stack resources, so their events carry no parameter path).
	invocations := plan.OfType(result.Resources, "aws:lambda/invocation:Invocation")
	assert.Len(t, invocations, 612)
	paths := map[string]bool{}
	for _, inv := range invocations {
		if strings.HasSuffix(inv.Name, "-login") {
			continue
		}
		var event struct {
			Host          string            `json:"host"`
			ParameterPath string            `json:"parameterPath"`
			Tags          map[string]string `json:"tags"`
		}
		require.NoError(t, json.Unmarshal([]byte(inv.String("input")), &event))
		paths[event.ParameterPath] = true
		pool := event.Tags["Pool"]
		if pool == "shared" {
			assert.True(t, strings.HasPrefix(event.Host, "saas-platform-scale."), event.Host)
		} else {
			assert.True(t, strings.HasPrefix(event.Host, "saas-platform-scale-pool-"+pool+"."), "%s's host is its pool's: %s", event.Tags["TenantId"], event.Host)
		}
	}
	assert.Len(t, paths, 600)

	tenants := result.Outputs["tenants"].(map[string]any)
	first := tenants["pool-00001"].(map[string]any)
	assert.Equal(t, "p1", first["pool"])
	assert.Contains(t, first["host"], "saas-platform-scale-pool-p1.", "a pool tenant's host is its pool's")
	assert.Equal(t, "shared", tenants["pool-00000"].(map[string]any)["pool"])
	where := result.Outputs["databasePools"].(map[string]any)
	require.Len(t, where, 5, "the shared instance and four pools")
	p1 := where["p1"].(map[string]any)
	assert.Equal(t, "saas-platform-scale-pool-p1", p1["identifier"])
	assert.Equal(t, first["host"], p1["host"], "the stack says where each pool is")
	assert.Equal(t, result.Outputs["databaseAddress"], where["shared"].(map[string]any)["host"])
}

func TestEveryPoolTenantCostsTheStackTwoResourcesSoResourcesGrowLinearly(t *testing.T) {
	count := func(pool int) (int, map[string]int) {
		result, err := plan.RunStackFile("..", manyTenants(t, pool, 0, 1), "scale")
		require.NoError(t, err)
		perTenant := map[string]int{}
		for _, r := range result.Resources {
			if _, rest, ok := strings.Cut(r.URN, "::saas-platform-scale-tenant-pool-"); ok {
				perTenant[strings.SplitN(rest, "-", 2)[0]]++
			}
		}
		return len(result.Resources), perTenant
	}
	hundred, perTenant := count(100)
	require.Len(t, perTenant, 100)
	for id, n := range perTenant {
		assert.Equal(t, 2, n, "pool tenant %s: its component and its provisioner invocation", id)
	}
	twoHundred, _ := count(200)
	assert.Equal(t, 200, twoHundred-hundred, "a hundred more pool tenants are two hundred more resources")
}

func TestUpgradingHandsAPoolTenantsSecretAndParametersToTheProvisionerWithoutDeletingThem(t *testing.T) {
	sf, err := config.ReadStackFile("../Pulumi.prod.yaml", "saas-platform")
	require.NoError(t, err)
	legacy := func(previous map[string]any) []plan.Resource {
		result, err := plan.Run("saas-platform", "prod", sf, previous)
		require.NoError(t, err)
		var out []plan.Resource
		for _, r := range result.Resources {
			if strings.Contains(r.URN, "::saas-platform-prod-tenant-globex") && r.Type != "saas:data:TenantDatabase" && r.Type != "aws:lambda/invocation:Invocation" {
				out = append(out, r)
			}
		}
		return out
	}
	// Deployed by a version that made them as stack resources: this
	// deployment keeps them once more, retained on delete.
	before := legacy(map[string]any{"tenants": map[string]any{"globex": map[string]any{"plan": "free", "isolation": "pool"}}, "cacheClusterMode": true})
	require.Len(t, before, 5, "globex's secret and four parameters")
	for _, r := range before {
		assert.True(t, r.Options.RetainOnDelete, r.Name)
	}
	// Deployed since: they leave the stack, and stay in AWS.
	after := legacy(map[string]any{"tenants": map[string]any{"globex": map[string]any{"plan": "free", "isolation": "pool", "facts": "provisioner"}}, "cacheClusterMode": true})
	assert.Empty(t, after)
}

// BenchmarkPlanOf612Tenants measures a whole offline plan of 600 pool
// tenants over five instances and 12 silo tenants:
// go test ./tests -run '^$' -bench PlanOf612Tenants
func BenchmarkPlanOf612Tenants(b *testing.B) {
	file := manyTenants(b, 600, 12, 4)
	sf, err := config.ReadStackFile(file, "saas-platform")
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := plan.Run("saas-platform", "scale", sf, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSiloInstancesGrowTheirStorageUpToThePlansLimit(t *testing.T) {
	cases := []struct {
		stack string
		want  map[string][2]float64 // identifier: allocated, max
	}{
		{"dev", map[string][2]float64{"saas-platform-dev-acme": {20, 100}}},
		{"prod", map[string][2]float64{"saas-platform-prod-acme": {500, 2000}, "saas-platform-prod-umbrella": {100, 500}}},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			result := planStack(t, tc.stack)
			seen := 0
			for _, db := range plan.OfType(result.Resources, instanceType) {
				want, ok := tc.want[db.String("identifier")]
				if !ok {
					continue
				}
				seen++
				assert.Equal(t, want[0], db.Number("allocatedStorage"), db.Name)
				assert.Equal(t, want[1], db.Number("maxAllocatedStorage"), db.Name)
				assert.Contains(t, db.Options.IgnoreChanges, "allocatedStorage", "%s: autoscaling grows storage behind Pulumi's back", db.Name)
			}
			assert.Equal(t, len(tc.want), seen)

			tenants := result.Outputs["tenants"].(map[string]any)
			acme := tenants["acme"].(map[string]any)
			assert.Equal(t, tc.want["saas-platform-"+tc.stack+"-acme"][1], acme["maxAllocatedStorage"])
			assert.Equal(t, "keep", acme["onRemove"], "the next deployment knows whether removing acme drops its data")
		})
	}
}
