package main

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// mocks answers like AWS, and records what the program registers.
type mocks struct {
	mu        sync.Mutex
	resources map[string]resource.PropertyMap // by type/name
	protected map[string]bool
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := args.TypeToken + "/" + args.Name
	m.resources[key] = args.Inputs
	if args.RegisterRPC != nil && args.RegisterRPC.GetProtect() {
		m.protected[key] = true
	}
	out := args.Inputs.Copy()
	switch args.TypeToken {
	case "aws:iam/role:Role":
		out["arn"] = resource.NewStringProperty("arn:aws:iam::123456789012:role/" + args.Inputs["name"].StringValue())
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		out["arn"] = resource.NewStringProperty("arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")
	case "aws:kms/key:Key":
		out["arn"] = resource.NewStringProperty("arn:aws:kms:ap-northeast-1:123456789012:key/k")
		out["keyId"] = resource.NewStringProperty("k")
	}
	return args.Name + "-id", out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.PropertyMap{"accountId": resource.NewStringProperty("123456789012"), "arn": resource.NewStringProperty("x"), "userId": resource.NewStringProperty("x")}, nil
	case "aws:index/getRegion:getRegion":
		return resource.PropertyMap{"name": resource.NewStringProperty("ap-northeast-1")}, nil
	}
	return resource.PropertyMap{}, nil
}

func runBootstrap(t *testing.T, config map[string]string) (*mocks, error) {
	t.Helper()
	m := &mocks{resources: map[string]resource.PropertyMap{}, protected: map[string]bool{}}
	values := map[string]string{}
	for k, v := range config {
		values["saas-platform-bootstrap:"+k] = v
	}
	err := pulumi.RunErr(program, pulumi.WithMocks("saas-platform-bootstrap", "admin", m), func(info *pulumi.RunInfo) {
		info.Config = values
	})
	return m, err
}

func policy(t *testing.T, raw resource.PropertyValue) awspolicy.Document {
	t.Helper()
	var doc awspolicy.Document
	require.NoError(t, json.Unmarshal([]byte(raw.StringValue()), &doc))
	return doc
}

func TestBootstrapUnderMocks(t *testing.T) {
	m, err := runBootstrap(t, map[string]string{"githubRepository": "acme/saas-platform"})
	require.NoError(t, err)

	trust := policy(t, m.resources["aws:iam/role:Role/deploy"]["assumeRolePolicy"])
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, trust.Statement[0].Action)
	assert.Equal(t, []string{"repo:acme/saas-platform:environment:dev", "repo:acme/saas-platform:environment:production"},
		trust.Statement[0].Condition["StringEquals"]["token.actions.githubusercontent.com:sub"],
		"only jobs of the deploying environments, never a pull request or a branch")
	assert.Equal(t, []string{"sts.amazonaws.com"}, trust.Statement[0].Condition["StringEquals"]["token.actions.githubusercontent.com:aud"])

	trust = policy(t, m.resources["aws:iam/role:Role/preview"]["assumeRolePolicy"])
	assert.Equal(t, []string{"repo:acme/saas-platform:pull_request", "repo:acme/saas-platform:ref:refs/heads/main"},
		trust.Statement[0].Condition["StringEquals"]["token.actions.githubusercontent.com:sub"])
	assert.Equal(t, "arn:aws:iam::aws:policy/ReadOnlyAccess",
		m.resources["aws:iam/rolePolicyAttachment:RolePolicyAttachment/preview-read-only"]["policyArn"].StringValue())

	assert.Equal(t, "saas-platform-pulumi-state-123456789012", m.resources["aws:s3/bucketV2:BucketV2/state"]["bucket"].StringValue())
	assert.Equal(t, "Enabled", m.resources["aws:s3/bucketVersioningV2:BucketVersioningV2/state"]["versioningConfiguration"].ObjectValue()["status"].StringValue())
	for _, r := range []string{"aws:s3/bucketV2:BucketV2/state", "aws:kms/key:Key/secrets", "aws:iam/openIdConnectProvider:OpenIdConnectProvider/github"} {
		assert.True(t, m.protected[r], "%s is protected", r)
	}
	assert.Equal(t, "saas-platform-bootstrap", m.resources["aws:iam/role:Role/deploy"]["tags"].ObjectValue()["Project"].StringValue(),
		"the bootstrap's roles are not tagged as the platform's, which the deploy role may change")
}

func TestBootstrapReusesAnOIDCProviderAndNeedsARepository(t *testing.T) {
	m, err := runBootstrap(t, map[string]string{
		"githubRepository": "acme/saas-platform",
		"oidcProviderArn":  "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
		"environments":     `["prod"]`,
		"secretsKey":       "false",
	})
	require.NoError(t, err)
	assert.NotContains(t, m.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider/github")
	assert.NotContains(t, m.resources, "aws:kms/key:Key/secrets")
	trust := policy(t, m.resources["aws:iam/role:Role/deploy"]["assumeRolePolicy"])
	assert.Equal(t, []string{"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, trust.Statement[0].Principal["Federated"])
	assert.Equal(t, []string{"repo:acme/saas-platform:environment:prod"}, trust.Statement[0].Condition["StringEquals"]["token.actions.githubusercontent.com:sub"])

	_, err = runBootstrap(t, map[string]string{"githubRepository": "saas-platform"})
	assert.ErrorContains(t, err, "owner/name")
}

func TestDeployPolicy(t *testing.T) {
	s := settings{Project: "saas-platform", Repository: "acme/saas-platform", Regions: []string{"ap-northeast-1"},
		StateBucket: "saas-platform-pulumi-state-123456789012", Account: "123456789012", Region: "ap-northeast-1"}
	doc := deployPolicy(s)
	sids := map[string]awspolicy.Statement{}
	for _, st := range doc.Statement {
		sids[st.Sid] = st
		for _, a := range st.Action {
			assert.NotEqual(t, "*", a)
			if st.Effect == "Allow" && strings.HasPrefix(a, "iam:") && a != "iam:Get*" && a != "iam:List*" {
				assert.NotEmpty(t, st.Condition, "%s: every IAM change is conditioned", a)
			}
		}
	}
	assert.Equal(t, []string{"ap-northeast-1"}, sids["PlatformServicesInItsRegions"].Condition["StringEquals"]["aws:RequestedRegion"])
	assert.Contains(t, sids["PlatformServicesInItsRegions"].Action, "ecr:*")
	assert.NotContains(t, sids["PlatformServicesInItsRegions"].Action, "iam:*")
	assert.Equal(t, []string{"saas-platform"}, sids["CreatePlatformRoles"].Condition["StringEquals"]["aws:RequestTag/Project"])
	assert.Equal(t, []string{"arn:aws:iam::aws:policy/service-role/*"}, sids["AttachOnlyAWSServiceRolePolicies"].Condition["ArnLike"]["iam:PolicyARN"])
	assert.Equal(t, "Deny", sids["NeverTheBootstrapsRoles"].Effect)
	assert.ElementsMatch(t, []string{"arn:aws:iam::123456789012:role/saas-platform-github-preview", "arn:aws:iam::123456789012:role/saas-platform-github-deploy"},
		sids["NeverTheBootstrapsRoles"].Resource)
	assert.Equal(t, "Deny", sids["StateBucketStaysAsBootstrapped"].Effect)
	// An inline policy may hold 10,240 characters (whitespace aside).
	assert.Less(t, len(doc.String()), 10240)

	preview := previewPolicy(s, "arn:aws:kms:ap-northeast-1:123456789012:key/k")
	assert.Equal(t, "Deny", preview.Statement[1].Effect)
	assert.Equal(t, []string{"secretsmanager:GetSecretValue"}, preview.Statement[1].Action)
	assert.Equal(t, []string{"ssm.ap-northeast-1.amazonaws.com"}, preview.Statement[0].Condition["StringLike"]["kms:ViaService"])
}
