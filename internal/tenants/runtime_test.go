package tenants

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/testenv"

	"github.com/saas-platform/saas-platform/internal/onboarding"
)

// registryInMoto makes dev's registry table in moto (ONBOARDING_TEST_AWS_ENDPOINT)
// and points the AWS SDK's environment at it, as an operator's shell would
// point it at AWS.
func registryInMoto(t *testing.T, stackTenants ...string) *onboarding.Registry {
	t.Helper()
	endpoint := testenv.Require(t, "ONBOARDING_TEST_AWS_ENDPOINT")
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)

	ctx := context.Background()
	db := dynamodb.NewFromConfig(testenv.Moto(t, "ONBOARDING_TEST_AWS_ENDPOINT"))
	table := onboarding.RegistryTable("saas-platform", "dev")
	_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	testenv.CreateRegistryTable(t, db, table)
	reg := &onboarding.Registry{DB: db, Table: table}
	publishFacts(t, reg, stackTenants...)
	return reg
}

func publishFacts(t *testing.T, reg *onboarding.Registry, tenants ...string) {
	t.Helper()
	body, err := json.Marshal(onboarding.StackFacts{Stack: "dev", Tenants: tenants})
	require.NoError(t, err)
	_, err = reg.DB.(*dynamodb.Client).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(reg.Table),
		Item: map[string]ddbtypes.AttributeValue{
			"id":                      &ddbtypes.AttributeValueMemberS{Value: onboarding.StackFactsKey},
			onboarding.FactsAttribute: &ddbtypes.AttributeValueMemberS{Value: string(body)},
		},
	})
	require.NoError(t, err)
}

// onboarded records a run-time tenant as the API and the worker leave it.
func onboarded(t *testing.T, reg *onboarding.Registry, id, plan, status string) {
	t.Helper()
	limit := map[string]int{"free": 5, "basic": 20}[plan]
	require.NoError(t, reg.Create(context.Background(), onboarding.Tenant{
		ID: id, Plan: plan, Pool: "shared", Status: status, ConnectionLimit: limit, Database: onboarding.DatabaseName(id),
		Version: 1, CreatedAt: "2026-12-05T01:00:00Z", UpdatedAt: "2026-12-05T01:00:02Z",
		RequestedBy: "arn:aws:sts::123456789012:assumed-role/signup/s1",
	}, onboarding.Usage{Connections: 1000, Databases: 1000}))
}

func TestListShowsTheRunTimeTenantsFromTheRegistry(t *testing.T) {
	reg := registryInMoto(t, "acme", "globex", "initech")
	onboarded(t, reg, "hooli", "free", onboarding.StatusActive)
	onboarded(t, reg, "pied-piper", "basic", onboarding.StatusFailed)

	file, _ := copyOf(t, "Pulumi.dev.yaml")
	code, stdout, stderr, _ := run(t, file, nil, "--stack", "dev", "list", "--registry")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `(?m)^globex\s+free\s+pool`, stdout, "the stack file's tenants first")
	assert.Contains(t, stdout, "Run-time tenants (onboarded through the API; registry saas-platform-dev-tenants):")
	assert.Regexp(t, `(?m)^hooli\s+free\s+shared\s+active\s+2026-12-05T01:00:02Z\s+arn:aws:sts::123456789012:assumed-role/signup/s1`, stdout)
	assert.Regexp(t, `(?m)^pied-piper\s+basic\s+shared\s+failed`, stdout)

	code, stdout, _, _ = run(t, file, nil, "--stack", "dev", "list")
	assert.Equal(t, 0, code)
	assert.NotContains(t, stdout, "hooli", "without --registry the command stays offline")
}

func TestPromoteMovesARunTimeTenantIntoTheStackFileThenHandsItsEntryOver(t *testing.T) {
	reg := registryInMoto(t, "acme", "globex", "initech")
	onboarded(t, reg, "hooli", "free", onboarding.StatusActive)
	onboarded(t, reg, "pied-piper", "basic", onboarding.StatusFailed)
	file, original := copyOf(t, "Pulumi.dev.yaml")

	code, _, stderr, content := run(t, file, nil, "--stack", "dev", "promote", "pied-piper", "--registry")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot promote tenant pied-piper: it is failed")
	assert.Equal(t, original, content)
	code, _, stderr, _ = run(t, file, nil, "--stack", "dev", "promote", "nobody", "--registry")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "has no run-time tenant nobody")
	code, _, stderr, _ = run(t, file, nil, "--stack", "dev", "promote", "hooli")
	assert.Equal(t, 2, code, "promote reads the registry: --registry says so")
	assert.Contains(t, stderr, "--registry")

	code, stdout, stderr, content := run(t, file, nil, "--stack", "dev", "promote", "hooli", "--registry")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, content, "{id: hooli, plan: free, pool: shared}", "on its plan and in its pool")
	assert.Contains(t, stdout, "the deployment adopts its database, login, secret and parameters")
	assert.Regexp(t, `\+ create\s+aws:lambda/invocation:Invocation\s+saas-platform-dev-tenant-hooli`, stdout)

	code, _, stderr, _ = run(t, file, nil, "--stack", "dev", "promote", "hooli", "--registry")
	assert.Equal(t, 1, code, "the entry stays until the deployment has run")
	assert.Contains(t, stderr, "not deployed yet")
	_, found, err := reg.Get(context.Background(), "hooli")
	require.NoError(t, err)
	assert.True(t, found)

	publishFacts(t, reg, "acme", "globex", "hooli", "initech") // what the deployment writes
	code, stdout, stderr, _ = run(t, file, nil, "--stack", "dev", "promote", "hooli", "--registry")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Tenant hooli is managed by Pulumi.dev.yaml now")
	_, found, err = reg.Get(context.Background(), "hooli")
	require.NoError(t, err)
	assert.False(t, found, "its registry entry is handed over")
	usage, err := reg.Usage(context.Background(), []string{"shared"})
	require.NoError(t, err)
	assert.Equal(t, onboarding.Usage{Connections: 20, Databases: 1}, usage["shared"], "only pied-piper is counted in the registry now")
}

func TestAddRefusesAnIdTheRegistryHoldsWhenItReadsTheRegistry(t *testing.T) {
	reg := registryInMoto(t, "acme", "globex", "initech")
	onboarded(t, reg, "hooli", "free", onboarding.StatusActive)
	file, original := copyOf(t, "Pulumi.dev.yaml")

	code, _, stderr, content := run(t, file, nil, "--stack", "dev", "add", "hooli", "--plan", "basic", "--registry")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot add tenant hooli: it is a run-time tenant of the registry saas-platform-dev-tenants (plan free, active)")
	assert.Contains(t, stderr, "promote hooli --registry")
	assert.Equal(t, original, content)

	code, _, stderr, _ = run(t, file, nil, "--stack", "dev", "add", "hooli-two", "--plan", "basic", "--registry", "--dry-run")
	assert.Equal(t, 0, code, stderr)
}
