package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	vaultType       = "aws:backup/vault:Vault"
	backupPlanType  = "aws:backup/plan:Plan"
	vaultPolicyType = "aws:backup/vaultPolicy:VaultPolicy"
	vaultLockType   = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
	restorePlanType = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
	restoreSelType  = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
	kmsKeyType      = "aws:kms/key:Key"
)

// drType says whether a resource type may live in the DR region: the
// copies' vault, its key, and the vault's guards.
func drType(typ string) bool {
	switch typ {
	case vaultType, vaultPolicyType, vaultLockType, kmsKeyType, "aws:kms/alias:Alias":
		return true
	}
	return false
}

// withConfig plans prod's stack file with lines added to its config.
func withConfig(t *testing.T, base, stack string, lines ...string) *plan.Result {
	t.Helper()
	content := readFile(t, base) + "  " + strings.Join(lines, "\n  ") + "\n"
	result, err := planFile(t, writeStackFile(t, content), stack)
	require.NoError(t, err)
	return result
}

func named(t *testing.T, result *plan.Result, typ, name string) plan.Resource {
	t.Helper()
	r, ok := plan.Named(result.Resources, typ, name)
	require.True(t, ok, "no %s %s", typ, name)
	return r
}

// vaultArn is the ARN the mock gives a vault, in its provider's region.
func vaultArn(t *testing.T, result *plan.Result, vault plan.Resource) string {
	t.Helper()
	region := "ap-northeast-1"
	for _, p := range plan.OfType(result.Resources, providerType) {
		if p.URN == vault.Provider {
			region = p.String("region")
		}
	}
	return "arn:aws:backup:" + region + ":" + plan.AccountID + ":backup-vault:" + vault.ID
}

func TestProdCopiesEveryBackupToAVaultInTheDRRegionUnderAKeyOfItsOwnThere(t *testing.T) {
	result := planStack(t, "prod")
	dr := named(t, result, providerType, "saas-platform-prod-dr")
	assert.Equal(t, "us-west-2", dr.String("region"))

	drVault := named(t, result, vaultType, "saas-platform-prod-dr")
	drKey := named(t, result, kmsKeyType, "saas-platform-prod-dr")
	for _, r := range []plan.Resource{drVault, drKey} {
		assert.Equal(t, dr.URN, r.Provider, "%s is not made in the DR region", r.Name)
		assert.True(t, r.Options.Protect, "%s is not protected", r.Name)
	}
	assert.True(t, drKey.Bool("enableKeyRotation"))
	assert.Contains(t, drVault.String("kmsKeyArn"), "arn:aws:kms:us-west-2:", "the DR vault's key is in the DR region")
	alias := named(t, result, "aws:kms/alias:Alias", "saas-platform-prod-dr")
	assert.Equal(t, "alias/saas-platform/prod/backup-dr", alias.String("name"))
	assert.Equal(t, dr.URN, alias.Provider)

	backupPlan := named(t, result, backupPlanType, "saas-platform-prod")
	want := map[string]float64{"daily": 35, "weekly": 90, "monthly": 1825}
	require.Equal(t, len(want), backupPlan.Count("rules"))
	for i := range backupPlan.Count("rules") {
		rule := fmt.Sprintf("rules.%d", i)
		keep := want[backupPlan.String(rule+".ruleName")]
		assert.Equal(t, keep, backupPlan.Number(rule+".lifecycle.deleteAfter"), rule)
		require.Equal(t, 1, backupPlan.Count(rule+".copyActions"), "%s is not copied to the DR region", rule)
		assert.Equal(t, vaultArn(t, result, drVault), backupPlan.String(rule+".copyActions.0.destinationVaultArn"), rule)
		assert.Equal(t, keep, backupPlan.Number(rule+".copyActions.0.lifecycle.deleteAfter"), "%s: the copy lives as long as the backup", rule)
	}
}

func TestTheDRProviderCarriesEverySettingOfTheStacksProviderButTheRegion(t *testing.T) {
	result := withConfig(t, "testdata/Pulumi.provider-keys.yaml", "provider-keys",
		"saas-platform:dataProtection: {backupPlan: true, drRegion: us-east-2}")
	own := theProvider(t, result)
	dr := named(t, result, providerType, "saas-platform-provider-keys-dr")
	assert.Equal(t, "us-east-2", dr.String("region"))

	ownInputs, drInputs := maps.Clone(own.Inputs), maps.Clone(dr.Inputs)
	delete(ownInputs, "region")
	delete(drInputs, "region")
	assert.Equal(t, ownInputs, drInputs, "assumeRole, endpoints, account guards, default tags, ... all reach the DR provider")
	assert.Equal(t, "arn:aws:iam::210987654321:role/saas-platform-deploy", dr.String("assumeRole.roleArn"))
}

func TestProdVaultsRefuseEarlyDeletionAndLockTheirRetention(t *testing.T) {
	result := planStack(t, "prod")
	for _, name := range []string{"saas-platform-prod", "saas-platform-prod-dr"} {
		t.Run(name, func(t *testing.T) {
			vault := named(t, result, vaultType, name)
			assert.True(t, vault.Options.Protect)

			policy := named(t, result, vaultPolicyType, name)
			assert.Equal(t, vault.Provider, policy.Provider)
			var doc struct {
				Statement []struct {
					Effect    string
					Principal map[string][]string
					Action    []string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(policy.String("policy")), &doc))
			require.Len(t, doc.Statement, 1)
			assert.Equal(t, "Deny", doc.Statement[0].Effect)
			assert.Equal(t, []string{"*"}, doc.Statement[0].Principal["AWS"])
			assert.Contains(t, doc.Statement[0].Action, "backup:DeleteRecoveryPoint")

			lock := named(t, result, vaultLockType, name)
			assert.Equal(t, vault.Provider, lock.Provider)
			assert.Equal(t, 35.0, lock.Number("minRetentionDays"), "the shortest rule")
			assert.Equal(t, 1825.0, lock.Number("maxRetentionDays"), "five years of monthlies")
			assert.Nil(t, lock.Input("changeableForDays"), "governance mode: an administrator can still lift it; compliance mode never could")
		})
	}
}

func TestProdRestoresTheLatestBackupOfEveryDatabaseEveryMonth(t *testing.T) {
	result := planStack(t, "prod")
	vault := named(t, result, vaultType, "saas-platform-prod")

	restorePlan := named(t, result, restorePlanType, "saas-platform-prod")
	assert.Regexp(t, `^[A-Za-z0-9_]{1,50}$`, restorePlan.String("name"))
	assert.Regexp(t, `^cron\(\d+ \d+ \d+ \* \? \*\)$`, restorePlan.String("scheduleExpression"), "once a month")
	assert.Equal(t, "LATEST_WITHIN_WINDOW", restorePlan.String("recoveryPointSelection.algorithm"))
	assert.Equal(t, []string{vaultArn(t, result, vault)}, restorePlan.Strings("recoveryPointSelection.includeVaults"))
	assert.Equal(t, []string{"SNAPSHOT"}, restorePlan.Strings("recoveryPointSelection.recoveryPointTypes"))

	selection := named(t, result, restoreSelType, "saas-platform-prod")
	assert.Equal(t, restorePlan.String("name"), selection.String("restoreTestingPlanName"))
	assert.Equal(t, "RDS", selection.String("protectedResourceType"))
	assert.Equal(t, []string{"*"}, selection.Strings("protectedResourceArns"))
	conditions := map[string]string{}
	for i := range selection.Count("protectedResourceConditions.stringEquals") {
		c := fmt.Sprintf("protectedResourceConditions.stringEquals.%d", i)
		conditions[selection.String(c+".key")] = selection.String(c + ".value")
	}
	assert.Equal(t, map[string]string{"aws:ResourceTag/Project": "saas-platform", "aws:ResourceTag/Environment": "prod"}, conditions,
		"every database of the environment carries these tags, tenants added later included")
	assert.Equal(t, result.Outputs["databaseSubnetGroupName"], selection.String("restoreMetadataOverrides.dbsubnetgroupname"),
		"restored copies land in the isolated subnets")
	assert.Positive(t, selection.Number("validationWindowHours"))

	role := named(t, result, "aws:iam/role:Role", "saas-platform-prod-backup")
	assert.True(t, strings.HasSuffix(selection.String("iamRoleArn"), ":role/"+role.ID), "restores run as AWS Backup's role")
	named(t, result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "saas-platform-prod-AWSBackupServiceRolePolicyForRestores")

	notifications := named(t, result, "aws:backup/vaultNotifications:VaultNotifications", "saas-platform-prod")
	assert.Contains(t, notifications.Strings("backupVaultEvents"), "RESTORE_JOB_COMPLETED", "each restore test's outcome reaches people")
	assert.Contains(t, notifications.Strings("backupVaultEvents"), "COPY_JOB_FAILED")
}

func TestDevKeepsOneRegionAndNoBackupPlanAndProdCanTurnTheDRCopyOff(t *testing.T) {
	dev := planStack(t, "dev")
	assert.Len(t, plan.OfType(dev.Resources, providerType), 1)
	for _, typ := range []string{vaultType, restorePlanType, vaultLockType} {
		assert.Empty(t, plan.OfType(dev.Resources, typ), typ)
	}

	prod := withConfig(t, "../Pulumi.prod.yaml", "prod", `saas-platform:dataProtection: {drRegion: ""}`)
	_, dr := plan.Named(prod.Resources, providerType, "saas-platform-prod-dr")
	assert.False(t, dr, "no provider for a DR region")
	assert.Len(t, plan.OfType(prod.Resources, vaultType), 1)
	backupPlan := named(t, prod, backupPlanType, "saas-platform-prod")
	for i := range backupPlan.Count("rules") {
		assert.Zero(t, backupPlan.Count(fmt.Sprintf("rules.%d.copyActions", i)))
	}
	assert.Len(t, plan.OfType(prod.Resources, restorePlanType), 1, "restore tests do not need a DR region")
}

func TestCacheEventsReachTheAlertRecipientsInBothClusterModes(t *testing.T) {
	cases := []struct {
		name           string
		extra          []string
		clusterEnabled string
		endpoint       string
	}{
		{"cluster mode on", nil, "yes", "clustercfg."},
		{"cluster mode off", []string{"saas-platform:cache: {clusterMode: false, shards: 1, replicasPerShard: 1}"}, "no", "master."},
		{"AWS's default group, cluster mode on", []string{"saas-platform:cache: {parameterGroup: default}"}, "", "clustercfg."},
		{"AWS's default group, cluster mode off", []string{"saas-platform:cache: {parameterGroup: default, clusterMode: false, shards: 1}"}, "", "master."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			result := withConfig(t, "../Pulumi.prod.yaml", "prod", tc.extra...)
			topic := named(t, result, "aws:sns/topic:Topic", "saas-platform-prod-data-events")
			redis := plan.OfType(result.Resources, redisType)
			require.Len(t, redis, 1)
			rg := redis[0]
			assert.True(t, strings.HasSuffix(rg.String("notificationTopicArn"), ":"+topic.ID), "the cache notifies the data-events topic")
			assert.Empty(t, topic.String("kmsMasterKeyId"), "ElastiCache cannot publish to an encrypted topic")

			policy := named(t, result, "aws:sns/topicPolicy:TopicPolicy", "saas-platform-prod-data-events")
			assert.Contains(t, policy.String("policy"), `"AWS:SourceOwner":["`+plan.AccountID+`"]`, "ElastiCache's documented condition")
			subscribers := []string{}
			for _, s := range plan.OfType(result.Resources, "aws:sns/topicSubscription:TopicSubscription") {
				if strings.HasPrefix(s.Name, "saas-platform-prod-data-events-") {
					subscribers = append(subscribers, s.String("endpoint"))
				}
			}
			assert.Equal(t, []string{"ops@example.com"}, subscribers, "the alert recipients")

			if tc.clusterEnabled == "" {
				assert.Empty(t, plan.OfType(result.Resources, "aws:elasticache/parameterGroup:ParameterGroup"))
				assert.True(t, strings.HasPrefix(rg.String("parameterGroupName"), "default.redis7"))
				assert.Equal(t, tc.endpoint == "clustercfg.", strings.HasSuffix(rg.String("parameterGroupName"), ".cluster.on"))
			} else {
				groups := plan.OfType(result.Resources, "aws:elasticache/parameterGroup:ParameterGroup")
				require.Len(t, groups, 1)
				assert.Equal(t, "cluster-enabled", groups[0].String("parameters.0.name"))
				assert.Equal(t, tc.clusterEnabled, groups[0].String("parameters.0.value"))
			}
			clusterMode := map[string]string{"clustercfg.": "enabled", "master.": ""}[tc.endpoint]
			assert.Equal(t, clusterMode, rg.String("clusterMode"))
			if clusterMode == "enabled" {
				assert.True(t, rg.Bool("automaticFailoverEnabled"), "cluster mode needs automatic failover")
			}
			assert.True(t, strings.HasPrefix(result.Outputs["cacheEndpoint"].(string), tc.endpoint))
		})
	}
}

func TestDevCacheNotifiesNobodyAsItsAlarmsDoNot(t *testing.T) {
	result := planStack(t, "dev")
	// Dev's cache is serverless, which has no notification topic at all.
	require.Len(t, plan.OfType(result.Resources, "aws:elasticache/serverlessCache:ServerlessCache"), 1)
	assert.Empty(t, plan.OfType(result.Resources, redisType))
	assert.Empty(t, plan.OfType(result.Resources, "saas:observability:EventTopic"))
}
