package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/internal/plan"
)

func runPlan(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := plan.Main(append([]string{"--project", ".."}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestThePlanPrintsJSONInTheDocumentedShape(t *testing.T) {
	code, stdout, stderr := runPlan("--stack", "prod", "--format", "json")
	require.Equal(t, 0, code, stderr)

	var doc struct {
		Stack     string
		Resources []map[string]json.RawMessage
		Outputs   map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	assert.Equal(t, "prod", doc.Stack)
	require.NotEmpty(t, doc.Resources)
	for _, r := range doc.Resources {
		for _, key := range []string{"urn", "type", "name", "dependencies", "inputs"} {
			assert.Contains(t, r, key)
		}
	}
	assert.Contains(t, doc.Outputs, "vpcId")
}

func TestThePlanTableListsResourcesAndCountsThem(t *testing.T) {
	code, stdout, stderr := runPlan("--stack", "dev")
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "TYPE"), "a header line first")
	assert.Contains(t, stdout, "awsx:ec2:Vpc")
	assert.Regexp(t, `\n\d+ resources in stack dev:`, stdout)
}

func TestBrokenStackFilesExitOneWithTheKeyOnStderrAndNothingOnStdout(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			first := strings.SplitN(string(data), "\n", 2)[0]
			key := strings.TrimPrefix(first, "# expect: ")
			require.NotEqual(t, first, key, "%s must start with '# expect: <key>'", file)

			code, stdout, stderr := runPlan("--config", file, "--stack", "broken")
			assert.Equal(t, 1, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, key)
			assert.NotContains(t, stderr, "problems)", "one problem per file")
		})
	}
}

func TestAStackFileWithOnlyASizingPlans(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.minimal.yaml")
	require.NoError(t, os.WriteFile(file, []byte("config:\n  saas-platform:sizing: dev\n"), 0o600))
	code, stdout, stderr := runPlan("--config", file, "--stack", "minimal", "--format", "json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"type": "awsx:ec2:Vpc"`)
}

func TestSecretsReachThePlanOnlyAsAPlaceholder(t *testing.T) {
	inputs := resource.PropertyMap{
		"password": resource.MakeSecret(resource.NewStringProperty("hunter2")),
		"nested":   resource.NewObjectProperty(resource.PropertyMap{"token": resource.MakeSecret(resource.NewStringProperty("t0ken"))}),
	}
	plain := plan.Plain(inputs)
	assert.Equal(t, "[secret]", plain["password"])
	assert.Equal(t, map[string]any{"token": "[secret]"}, plain["nested"])
}

func TestUsageErrorsExitTwo(t *testing.T) {
	code, stdout, _ := runPlan("--format", "json")
	assert.Equal(t, 2, code, "no --stack")
	assert.Empty(t, stdout)
	code, _, stderr := runPlan("--stack", "nosuchstack")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "Pulumi.nosuchstack.yaml")
}

// The engine refuses a program that registers two resources under one URN;
// the recording mock refuses it too, so that no plan promises what
// `pulumi up` cannot do.
func TestTheMockRefusesTwoResourcesWithOneURNAsTheEngineDoes(t *testing.T) {
	mocks := plan.NewMocks("saas-platform", "dev", "ap-northeast-1")
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		if _, err := sns.NewTopic(ctx, "alerts", &sns.TopicArgs{}); err != nil {
			return err
		}
		_, err := sns.NewTopic(ctx, "alerts", &sns.TopicArgs{})
		return err
	}, pulumi.WithMocks("saas-platform", "dev", mocks))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "duplicate resource URN")
	assert.Contains(t, err.Error(), "urn:pulumi:dev::saas-platform::aws:sns/topic:Topic::alerts")
}

// What used to reach the mock as two resources with one URN is refused by
// the config first, with the key that causes it.
func TestKnownCausesOfDuplicateURNsAreRefusedByKey(t *testing.T) {
	for name, tc := range map[string]struct{ section, key string }{
		"a silo tenant named like the shared instance": {
			"  saas-platform:tenants: [{id: shared, plan: premium}]\n", "saas-platform:tenants[0].id"},
		"a repeated allowed range": {
			"  saas-platform:loadBalancer: {allowedCidrs: [203.0.113.0/24, 203.0.113.0/24]}\n", "saas-platform:loadBalancer.allowedCidrs[1]"},
		"a service named like a tenant's database alarms": {
			"  saas-platform:tenants: [{id: acme, plan: premium}]\n  saas-platform:services: [{name: db-acme, image: nginx, port: 80}]\n", "saas-platform:services[0].name"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
			require.NoError(t, os.WriteFile(file, []byte("config:\n  aws:region: ap-northeast-1\n  saas-platform:sizing: dev\n"+tc.section), 0o600))
			code, stdout, stderr := runPlan("--config", file, "--stack", "dev")
			assert.Equal(t, 1, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "invalid stack config: "+tc.key)
		})
	}
}

// The offline plan works from any directory with --project, and keeps its
// notices (building or reusing the tenant provisioner) on stderr: stdout
// holds the plan only.
func TestThePlanRunsFromAnyDirectoryWithProject(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	code := plan.Main([]string{"--project", root, "--stack", "dev"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.True(t, strings.HasPrefix(stdout.String(), "TYPE"), "stdout is the plan's table, nothing before it")
	assert.NotContains(t, stdout.String(), "building the tenant provisioner")
	assert.NotContains(t, stdout.String(), "reusing the tenant provisioner")
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" {
			assert.True(t, strings.HasPrefix(line, "plan: "), "a notice of the plan: %q", line)
		}
	}
}

// Without Go, a stack with pool tenants (the provisioner is built with Go)
// fails with one sentence that says what to install, and prints no plan.
func TestWithoutGoThePlanFailsWithOneSentence(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	code := plan.Main([]string{"--project", root, "--stack", "dev"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout.String())
	assert.Equal(t, data.ErrNoGoToolchain.Error()+"\n", stderr.String())
	assert.Contains(t, stderr.String(), "install Go 1.24 or newer")
}

// A pool tenant's invocation depends on every resource of the network, the
// last one registered included: the list is the network's own record, not
// the SDK's view of the component's children, which fills in
// asynchronously (two plans of one file then differed now and then).
func TestAPoolTenantsInvocationDependsOnEveryResourceOfTheNetwork(t *testing.T) {
	result := planStack(t, "dev")
	network := map[string]bool{}
	for _, r := range result.Resources {
		if r.Custom && strings.Contains(r.URN, "saas:network:Network$") {
			network[r.URN] = true
		}
	}
	require.NotEmpty(t, network)
	invocations := plan.OfType(result.Resources, "aws:lambda/invocation:Invocation")
	require.NotEmpty(t, invocations, "dev has pool tenants")
	for _, inv := range invocations {
		deps := map[string]bool{}
		for _, d := range inv.Dependencies {
			deps[d] = true
		}
		for urn := range network {
			assert.True(t, deps[urn], "%s depends on %s", inv.Name, urn)
		}
	}
}
