package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

// planFile runs the program on any stack file.
func planFile(t *testing.T, file, stack string, options ...func(*plan.Mocks)) (*plan.Result, error) {
	t.Helper()
	project, err := plan.ProjectName("..")
	require.NoError(t, err)
	sf, err := config.ReadStackFile(file, project)
	require.NoError(t, err)
	return plan.Run(project, stack, sf, nil, options...)
}

// theProvider is the stack's own AWS provider, in the stack's region; a
// stack may have two more: in us-east-1 for CloudFront, and in the DR region
// for the backup copies' vault and key.
func theProvider(t *testing.T, result *plan.Result) plan.Resource {
	t.Helper()
	provider, ok := plan.Named(result.Resources, providerType, "saas-platform-"+result.Stack)
	require.True(t, ok, "the stack's AWS provider")
	for _, p := range plan.OfType(result.Resources, providerType) {
		if p.URN != provider.URN {
			assert.Contains(t, []string{"saas-platform-" + result.Stack + "-us-east-1", "saas-platform-" + result.Stack + "-dr"}, p.Name,
				"the only other providers are CloudFront's and the DR region's")
		}
	}
	return provider
}

// A second provider deploys through the same role into the same account:
// it copies every setting of the stack's provider but the region.
func TestTheUSEast1ProviderCopiesEverySettingButTheRegion(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.global.yaml")
	data, err := os.ReadFile("testdata/Pulumi.provider-keys.yaml")
	require.NoError(t, err)
	edge := strings.Replace(string(data), "  saas-platform:sizing: dev\n",
		"  saas-platform:sizing: dev\n  saas-platform:domain: {name: app.example.com, zone: example.com}\n  saas-platform:staticAssets: {host: static.example.com}\n", 1)
	require.NoError(t, os.WriteFile(file, []byte(edge), 0o600))
	result, err := planFile(t, file, "global")
	require.NoError(t, err)
	main := theProvider(t, result)
	global, ok := plan.Named(result.Resources, providerType, "saas-platform-global-us-east-1")
	require.True(t, ok)
	assert.Equal(t, "us-east-1", global.Input("region"))
	for key, value := range main.Inputs {
		if key != "region" {
			assert.Equal(t, value, global.Inputs[key], key)
		}
	}
	assert.Equal(t, "arn:aws:iam::210987654321:role/saas-platform-deploy", global.Input("assumeRole.roleArn"))
	for _, r := range plan.OfType(result.Resources, "aws:acm/certificate:Certificate") {
		if strings.Contains(r.Name, "static") {
			assert.Equal(t, global.URN, r.Provider, "CloudFront takes certificates from us-east-1 only")
		} else {
			assert.Equal(t, main.URN, r.Provider, "the load balancer's certificate is in the stack's region")
		}
	}
}

func TestEveryAWSKeyOfTheStackFileReachesTheProvider(t *testing.T) {
	result, err := planFile(t, "testdata/Pulumi.provider-keys.yaml", "provider-keys")
	require.NoError(t, err)
	provider := theProvider(t, result)

	cases := []struct {
		input string
		want  any
	}{
		{"region", "ap-northeast-1"},
		{"profile", "deploy"},
		{"assumeRole.roleArn", "arn:aws:iam::210987654321:role/saas-platform-deploy"},
		{"assumeRole.sessionName", "saas-platform-provider-keys"},
		{"assumeRole.externalId", "provider-keys-external-id"},
		{"assumeRole.duration", "1h"},
		{"allowedAccountIds", []any{"210987654321"}},
		{"endpoints.0.sts", "https://sts.ap-northeast-1.amazonaws.com"},
		{"endpoints.0.s3", "https://s3.ap-northeast-1.amazonaws.com"},
		{"sharedConfigFiles", []any{"/etc/aws/config"}},
		{"sharedCredentialsFiles", []any{"/etc/aws/credentials"}},
		{"skipCredentialsValidation", true},
		{"skipRequestingAccountId", true},
		{"skipMetadataApiCheck", true},
		{"s3UsePathStyle", true},
		{"maxRetries", float64(7)},
		{"retryMode", "adaptive"},
		{"insecure", false},
		{"customCaBundle", "/etc/ssl/certs/corporate-ca.pem"},
		{"stsRegion", "ap-northeast-1"},
		{"token", config.SecretPlaceholder},
	}
	for _, tc := range cases {
		t.Run(tc.input, func(t *testing.T) {
			assert.Equal(t, tc.want, provider.Input(tc.input))
		})
	}
}

func TestForbiddenAccountsReachTheProvider(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.forbidden.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`config:
  aws:region: ap-northeast-1
  aws:forbiddenAccountIds: ["123456789012", "000000000000"]
  saas-platform:sizing: dev
`), 0o600))
	result, err := planFile(t, file, "forbidden")
	require.NoError(t, err)
	assert.Equal(t, []any{"123456789012", "000000000000"}, theProvider(t, result).Input("forbiddenAccountIds"))
}

func TestASecretInsideAnAWSKeyKeepsTheWholeKeySecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.secret-role.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`config:
  aws:region: ap-northeast-1
  aws:assumeRole:
    roleArn: arn:aws:iam::210987654321:role/deploy
    externalId: {secure: AAABAGV4dGVybmFs}
  aws:secretKey: {secure: AAABAHNlY3JldA==}
  saas-platform:sizing: dev
`), 0o600))
	result, err := planFile(t, file, "secret-role")
	require.NoError(t, err)
	provider := theProvider(t, result)
	assert.Equal(t, config.SecretPlaceholder, provider.Input("assumeRole"))
	assert.Equal(t, config.SecretPlaceholder, provider.Input("secretKey"))
}

func TestTheStackFilesDefaultTagsAreMergedWithTheProgramsTags(t *testing.T) {
	result, err := planFile(t, "testdata/Pulumi.provider-keys.yaml", "provider-keys")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"Project": "saas-platform", "Environment": "provider-keys", "ManagedBy": "pulumi",
		"CostCenter": "platform", "Owner": "team-platform",
	}, theProvider(t, result).Input("defaultTags.tags"))
}

// The account in an ARN the program builds must be the one the provider
// deploys into: with an assumed role, not the shell's own account.
func TestEveryDataSourceIsReadThroughTheStacksProvider(t *testing.T) {
	files := map[string]string{
		"dev": "../Pulumi.dev.yaml", "prod": "../Pulumi.prod.yaml",
		"provider-keys": "testdata/Pulumi.provider-keys.yaml", "local": "../examples/Pulumi.local.yaml",
	}
	for stack, file := range files {
		t.Run(stack, func(t *testing.T) {
			result, err := planFile(t, file, stack)
			require.NoError(t, err)
			provider := theProvider(t, result)
			require.NotEmpty(t, result.Invokes)
			tokens := map[string]bool{}
			for _, invoke := range result.Invokes {
				tokens[invoke.Token] = true
				assert.Equal(t, provider.URN, invoke.Provider, "%s is read through another provider", invoke.Token)
			}
			assert.True(t, tokens["aws:index/getCallerIdentity:getCallerIdentity"], "the account id is read")
		})
	}
}

func TestAnRDSInstanceThatReportsNoSecretFailsWithAnErrorNamingIt(t *testing.T) {
	var result *plan.Result
	var err error
	require.NotPanics(t, func() {
		result, err = planFile(t, "../Pulumi.dev.yaml", "dev", func(m *plan.Mocks) {
			m.Withholding("aws:rds/instance:Instance", "masterUserSecrets")
		})
	})
	require.Error(t, err)
	assert.Nil(t, result)
	assert.Contains(t, err.Error(), "RDS instance saas-platform-dev")
	assert.Contains(t, err.Error(), "masterUserSecrets is empty")
}

// awsEndpoint names the provider's endpoint key for the AWS API that
// manages a resource type.
func awsEndpoint(typ string) string {
	switch {
	case strings.HasPrefix(typ, "aws:cloudwatch/logGroup:"):
		return "logs"
	case strings.HasPrefix(typ, "aws:cloudwatch/event"):
		return "events"
	case strings.HasPrefix(typ, "aws:lb/"):
		return "elbv2"
	case strings.HasPrefix(typ, "aws:vpc/"):
		return "ec2"
	}
	module := strings.TrimPrefix(typ, "aws:")
	return module[:strings.Index(module, "/")]
}

func TestTheLocalStackSendsEveryCallToTheEmulatorAndAvoidsItsGaps(t *testing.T) {
	result, err := planFile(t, "../examples/Pulumi.local.yaml", "local")
	require.NoError(t, err)
	provider := theProvider(t, result)

	endpoints, ok := provider.Input("endpoints.0").(map[string]any)
	require.True(t, ok, "the local stack sets aws:endpoints")
	for service, url := range endpoints {
		assert.Equal(t, "http://localhost:5000", url, service)
	}
	assert.Contains(t, endpoints, "sts", "the account id is read from the emulator")
	// The awsx VPC's children (subnets, route tables, NAT) are EC2 resources.
	assert.Contains(t, endpoints, "ec2")
	for _, r := range result.Resources {
		if strings.HasPrefix(r.Type, "aws:") {
			assert.Contains(t, endpoints, awsEndpoint(r.Type), "%s %s would reach real AWS", r.Type, r.Name)
		}
	}
	// The provider keeps credentials secret even when the stack file does not.
	for _, key := range []string{"accessKey", "secretKey"} {
		assert.Equal(t, config.SecretPlaceholder, provider.Input(key), key)
	}
	for _, key := range []string{"skipCredentialsValidation", "skipRequestingAccountId", "skipMetadataApiCheck", "s3UsePathStyle"} {
		assert.Equal(t, true, provider.Input(key), key)
	}

	// What moto 5.2 does not implement is not asked of it.
	assert.Empty(t, plan.OfType(result.Resources, "aws:elasticache/parameterGroup:ParameterGroup"))
	assert.Empty(t, plan.OfType(result.Resources, "aws:cloudwatch/compositeAlarm:CompositeAlarm"))
	assert.Empty(t, plan.OfType(result.Resources, "aws:lambda/function:Function"), "tenants' and services' logins need moto to run Lambda in Docker")
	redis := plan.OfType(result.Resources, "aws:elasticache/replicationGroup:ReplicationGroup")
	require.Len(t, redis, 1)
	assert.Equal(t, "default.redis7.cluster.on", redis[0].String("parameterGroupName"), "AWS's default group, in cluster mode as everywhere")
	assert.NotEmpty(t, plan.OfType(result.Resources, "aws:cloudwatch/metricAlarm:MetricAlarm"), "the member alarms stay")
}

func TestTheConfigurationDocListsTheProviderKeys(t *testing.T) {
	readme, err := os.ReadFile("../docs/configuration.md")
	require.NoError(t, err)
	for _, key := range []string{
		"profile", "assumeRole", "allowedAccountIds", "forbiddenAccountIds", "endpoints",
		"sharedConfigFiles", "sharedCredentialsFiles", "skipCredentialsValidation",
		"skipRequestingAccountId", "skipMetadataApiCheck", "s3UsePathStyle", "maxRetries",
		"retryMode", "insecure", "customCaBundle", "stsRegion", "defaultTags",
	} {
		assert.True(t, strings.Contains(string(readme), "`aws:"+key+"`"), "docs/configuration.md does not document aws:%s", key)
	}
}
