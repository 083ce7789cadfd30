// Command bootstrap is the one-time AWS setup that saas-platform's GitHub
// workflows need, as a small Pulumi program of its own. An administrator
// runs it once per AWS account, from this directory (see docs/delivery.md,
// Bootstrap):
//
//   - GitHub's OIDC identity provider: workflows get short-lived
//     credentials, and no access key exists anywhere;
//   - the preview role, read-only: pull requests' previews, prod's preview
//     before approval, drift detection; it may not read secret values;
//   - the deploy role: image pushes and `pulumi up`, only from the GitHub
//     environments that deploy (dev, production), only for the services the
//     platform uses, in its regions, and only on IAM roles tagged as the
//     platform's;
//   - the state backend: a versioned, encrypted, private S3 bucket, and a
//     KMS key for the stacks' secrets.
package main

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// githubIssuer is the OIDC issuer of GitHub Actions' tokens.
const githubIssuer = "token.actions.githubusercontent.com"

// settings are the bootstrap stack's config, with the account's facts.
type settings struct {
	Project         string   // the platform's project: IAM roles' Project tag, bucket prefix
	Repository      string   // owner/name
	Environments    []string // GitHub environments that deploy
	Regions         []string // where the deploy role acts
	StateBucket     string
	SecretsKey      bool
	OIDCProviderArn string
	Account         string
	Region          string
}

func main() {
	pulumi.Run(program)
}

func program(ctx *pulumi.Context) error {
	s, err := load(ctx)
	if err != nil {
		return err
	}
	return build(ctx, s)
}

func load(ctx *pulumi.Context) (settings, error) {
	get := func(key string) string {
		v, _ := ctx.GetConfig(ctx.Project() + ":" + key)
		return v
	}
	s := settings{
		Project:         get("project"),
		Repository:      get("githubRepository"),
		StateBucket:     get("stateBucket"),
		SecretsKey:      get("secretsKey") != "false",
		OIDCProviderArn: get("oidcProviderArn"),
	}
	for key, into := range map[string]*[]string{"environments": &s.Environments, "regions": &s.Regions} {
		if raw := get(key); raw != "" {
			if err := json.Unmarshal([]byte(raw), into); err != nil {
				return s, fmt.Errorf("%s must be a list of strings, not %s", key, raw)
			}
		}
	}
	if s.Project == "" {
		s.Project = "saas-platform"
	}
	if len(s.Environments) == 0 {
		s.Environments = []string{"dev", "production"}
	}
	if s.Repository == "" || len(splitRepository(s.Repository)) != 2 {
		return s, fmt.Errorf("set githubRepository to the repository as owner/name (pulumi config set githubRepository acme/saas-platform), not %q", s.Repository)
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return s, fmt.Errorf("reading the account id: %w", err)
	}
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return s, fmt.Errorf("reading the region: %w", err)
	}
	s.Account, s.Region = caller.AccountId, region.Name
	if len(s.Regions) == 0 {
		s.Regions = []string{s.Region}
	}
	if s.StateBucket == "" {
		s.StateBucket = fmt.Sprintf("%s-pulumi-state-%s", s.Project, s.Account)
	}
	return s, nil
}

func splitRepository(r string) []string {
	for i := 0; i < len(r); i++ {
		if r[i] == '/' {
			if i == 0 || i == len(r)-1 {
				return nil
			}
			return []string{r[:i], r[i+1:]}
		}
	}
	return nil
}

// Role names are fixed, so that policies can name them before they exist.
func (s settings) previewRoleName() string { return s.Project + "-github-preview" }
func (s settings) deployRoleName() string  { return s.Project + "-github-deploy" }
func (s settings) roleArn(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", s.Account, name)
}
func (s settings) bucketArn() string { return "arn:aws:s3:::" + s.StateBucket }
func (s settings) secretsKeyAlias() string {
	return "alias/" + s.Project + "-pulumi-secrets"
}

// tags mark what the bootstrap made. The Project value is deliberately not
// the platform's: the deploy role may change only IAM roles tagged with the
// platform's project, so it can never change its own role or this one.
func (s settings) tags() pulumi.StringMap {
	return pulumi.StringMap{"Project": pulumi.String(s.Project + "-bootstrap"), "ManagedBy": pulumi.String("pulumi")}
}

func build(ctx *pulumi.Context, s settings) error {
	protect := pulumi.Protect(true)

	providerArn := pulumi.String(s.OIDCProviderArn).ToStringOutput()
	if s.OIDCProviderArn == "" {
		provider, err := iam.NewOpenIdConnectProvider(ctx, "github", &iam.OpenIdConnectProviderArgs{
			Url:           pulumi.String("https://" + githubIssuer),
			ClientIdLists: pulumi.ToStringArray([]string{"sts.amazonaws.com"}),
			Tags:          s.tags(),
		}, protect)
		if err != nil {
			return err
		}
		providerArn = provider.Arn
	}

	// The state bucket: versioned (every checkpoint can be restored),
	// encrypted, private, TLS only, old versions expire after 90 days.
	bucket, err := s3.NewBucketV2(ctx, "state", &s3.BucketV2Args{
		Bucket: pulumi.String(s.StateBucket),
		Tags:   s.tags(),
	}, protect, pulumi.RetainOnDelete(true))
	if err != nil {
		return err
	}
	if _, err := s3.NewBucketVersioningV2(ctx, "state", &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, "state", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
		}},
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, "state", &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, "state", &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, "state", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                          pulumi.String("expire-old-checkpoints"),
			Status:                      pulumi.String("Enabled"),
			Filter:                      &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(90)},
		}},
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketPolicy(ctx, "state", &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: pulumi.String(stateBucketPolicy(s).String()),
	}); err != nil {
		return err
	}

	secretsProvider := pulumi.String("").ToStringOutput()
	keyArn := pulumi.String("").ToStringOutput()
	if s.SecretsKey {
		key, err := kms.NewKey(ctx, "secrets", &kms.KeyArgs{
			Description:       pulumi.String("Encrypts the Pulumi secrets of " + s.Project + "'s stacks"),
			EnableKeyRotation: pulumi.Bool(true),
			Tags:              s.tags(),
		}, protect)
		if err != nil {
			return err
		}
		alias := s.secretsKeyAlias()
		if _, err := kms.NewAlias(ctx, "secrets", &kms.AliasArgs{Name: pulumi.String(alias), TargetKeyId: key.KeyId}); err != nil {
			return err
		}
		keyArn = key.Arn
		secretsProvider = pulumi.String(fmt.Sprintf("awskms://%s?region=%s", alias, s.Region)).ToStringOutput()
	}

	preview, err := iam.NewRole(ctx, "preview", &iam.RoleArgs{
		Name:             pulumi.String(s.previewRoleName()),
		Description:      pulumi.String("GitHub Actions of " + s.Repository + ": previews and drift detection, read-only"),
		AssumeRolePolicy: awspolicy.Output(func(v []any) awspolicy.Document { return githubTrust(v[0].(string), s.previewSubjects()) }, providerArn),
		Tags:             s.tags(),
	})
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, "preview-read-only", &iam.RolePolicyAttachmentArgs{
		Role:      preview.Name,
		PolicyArn: pulumi.String("arn:aws:iam::aws:policy/ReadOnlyAccess"),
	}); err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, "preview", &iam.RolePolicyArgs{
		Role:   preview.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document { return previewPolicy(s, v[0].(string)) }, keyArn),
	}); err != nil {
		return err
	}

	deploy, err := iam.NewRole(ctx, "deploy", &iam.RoleArgs{
		Name:             pulumi.String(s.deployRoleName()),
		Description:      pulumi.String("GitHub Actions of " + s.Repository + ": image pushes and pulumi up, from its deploying environments"),
		AssumeRolePolicy: awspolicy.Output(func(v []any) awspolicy.Document { return githubTrust(v[0].(string), s.deploySubjects()) }, providerArn),
		// A first prod deployment (multi-AZ databases) takes over an hour;
		// the deploy jobs ask for three.
		MaxSessionDuration: pulumi.Int(4 * 3600),
		Tags:               s.tags(),
	})
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, "deploy", &iam.RolePolicyArgs{
		Role:   deploy.Name,
		Policy: pulumi.String(deployPolicy(s).String()),
	}); err != nil {
		return err
	}

	ctx.Export("oidcProviderArn", providerArn)
	ctx.Export("previewRoleArn", preview.Arn)
	ctx.Export("deployRoleArn", deploy.Arn)
	ctx.Export("stateBucket", bucket.Bucket)
	ctx.Export("backendUrl", pulumi.Sprintf("s3://%s", bucket.Bucket))
	ctx.Export("secretsProvider", secretsProvider)
	return nil
}

// previewSubjects: pull requests, and main (prod's preview in deploy.yml,
// drift.yml's schedule).
func (s settings) previewSubjects() []string {
	return []string{
		"repo:" + s.Repository + ":pull_request",
		"repo:" + s.Repository + ":ref:refs/heads/main",
	}
}

// deploySubjects: only jobs that run in a deploying environment, which
// GitHub lets only main deploy to and, for production, only after approval.
func (s settings) deploySubjects() []string {
	var out []string
	for _, e := range s.Environments {
		out = append(out, "repo:"+s.Repository+":environment:"+e)
	}
	return out
}

// githubTrust lets GitHub's OIDC tokens for exactly these subjects assume a role.
func githubTrust(providerArn string, subjects []string) awspolicy.Document {
	return awspolicy.New(awspolicy.Statement{
		Effect:    "Allow",
		Principal: map[string][]string{"Federated": {providerArn}},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: awspolicy.Condition{"StringEquals": {
			githubIssuer + ":aud": {"sts.amazonaws.com"},
			githubIssuer + ":sub": subjects,
		}},
	})
}

// stateBucketPolicy refuses plain HTTP.
func stateBucketPolicy(s settings) awspolicy.Document {
	return awspolicy.New(awspolicy.Statement{
		Sid:       "TLSOnly",
		Effect:    "Deny",
		Principal: map[string][]string{"AWS": {"*"}},
		Action:    []string{"s3:*"},
		Resource:  []string{s.bucketArn(), s.bucketArn() + "/*"},
		Condition: awspolicy.Condition{"Bool": {"aws:SecureTransport": {"false"}}},
	})
}

// previewPolicy adds to AWS's ReadOnlyAccess what a preview or a refresh
// needs (the stacks' secrets key; SSM's SecureString connection facts,
// which a refresh reads) and takes away secret values: a pull request's
// code runs with this role.
func previewPolicy(s settings, secretsKeyArn string) awspolicy.Document {
	statements := []awspolicy.Statement{{
		Sid:       "ReadSecureStringParameters",
		Effect:    "Allow",
		Action:    []string{"kms:Decrypt"},
		Resource:  []string{"*"},
		Condition: awspolicy.Condition{"StringLike": {"kms:ViaService": regional(s.Regions, "ssm.%s.amazonaws.com")}},
	}, {
		Sid:      "NoSecretValues",
		Effect:   "Deny",
		Action:   []string{"secretsmanager:GetSecretValue"},
		Resource: []string{"*"},
	}}
	if secretsKeyArn != "" {
		statements = append(statements, awspolicy.Statement{
			Sid:      "DecryptTheStacksConfigSecrets",
			Effect:   "Allow",
			Action:   []string{"kms:Decrypt", "kms:DescribeKey"},
			Resource: []string{secretsKeyArn},
		})
	}
	return awspolicy.New(statements...)
}

// regionalServices are the AWS services the platform's program manages;
// the deploy role may use them in the platform's regions only.
var regionalServices = []string{
	"acm", "application-autoscaling", "backup", "backup-storage", "cloudwatch", "dynamodb", "ec2", "ecr", "ecs",
	"elasticache", "elasticloadbalancing", "events", "kms", "lambda", "logs", "rds", "secretsmanager",
	"servicediscovery", "sns", "sqs", "ssm", "wafv2",
}

// serviceRolePassedTo are the services the program hands roles to.
var serviceRolePassedTo = []string{
	"backup.amazonaws.com", "ecs-tasks.amazonaws.com", "events.amazonaws.com", "lambda.amazonaws.com",
	"monitoring.rds.amazonaws.com", "vpc-flow-logs.amazonaws.com",
}

// serviceLinkedRoles are those AWS creates on first use in an account.
var serviceLinkedRoles = []string{
	"backup.amazonaws.com", "ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com",
	"elasticache.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
}

// deployPolicy is what `pulumi up` of the platform and the image pushes
// need, and no more than the tags, names and regions can narrow it to.
// Creating IAM roles is inherently powerful (a role can be handed to a
// Lambda function); the conditions keep it to roles tagged as the
// platform's, with AWS's service-role policies attached.
func deployPolicy(s settings) awspolicy.Document {
	actions := make([]string, 0, len(regionalServices))
	for _, svc := range regionalServices {
		actions = append(actions, svc+":*")
	}
	sort.Strings(actions)
	tagged := awspolicy.Condition{"StringEquals": {"aws:ResourceTag/Project": {s.Project}}}
	ownRoles := []string{s.roleArn(s.previewRoleName()), s.roleArn(s.deployRoleName())}
	return awspolicy.New(
		awspolicy.Statement{
			Sid:       "PlatformServicesInItsRegions",
			Effect:    "Allow",
			Action:    actions,
			Resource:  []string{"*"},
			Condition: awspolicy.Condition{"StringEquals": {"aws:RequestedRegion": s.Regions}},
		},
		awspolicy.Statement{
			Sid:    "GlobalServices",
			Effect: "Allow",
			// Cloud Map's private namespaces are Route 53 hosted zones;
			// static assets are served by CloudFront.
			Action:   []string{"route53:*", "cloudfront:*", "sts:GetCallerIdentity", "tag:GetResources"},
			Resource: []string{"*"},
		},
		awspolicy.Statement{
			Sid:      "PlatformBuckets",
			Effect:   "Allow",
			Action:   []string{"s3:*"},
			Resource: []string{"arn:aws:s3:::" + s.Project + "-*"},
		},
		awspolicy.Statement{
			Sid:      "StateObjects",
			Effect:   "Allow",
			Action:   []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"},
			Resource: []string{s.bucketArn(), s.bucketArn() + "/*"},
		},
		awspolicy.Statement{
			// Its name may match the platform's buckets above.
			Sid:    "StateBucketStaysAsBootstrapped",
			Effect: "Deny",
			Action: []string{"s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning",
				"s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
				"s3:PutBucketOwnershipControls", "s3:DeleteObjectVersion"},
			Resource: []string{s.bucketArn(), s.bucketArn() + "/*"},
		},
		awspolicy.Statement{
			Sid:      "ReadIAM",
			Effect:   "Allow",
			Action:   []string{"iam:Get*", "iam:List*"},
			Resource: []string{"*"},
		},
		awspolicy.Statement{
			Sid:       "CreatePlatformRoles",
			Effect:    "Allow",
			Action:    []string{"iam:CreateRole", "iam:TagRole"},
			Resource:  []string{"*"},
			Condition: awspolicy.Condition{"StringEquals": {"aws:RequestTag/Project": {s.Project}}},
		},
		awspolicy.Statement{
			Sid:    "ChangePlatformRoles",
			Effect: "Allow",
			Action: []string{"iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
				"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:TagRole", "iam:UntagRole"},
			Resource:  []string{"*"},
			Condition: tagged,
		},
		awspolicy.Statement{
			Sid:      "AttachOnlyAWSServiceRolePolicies",
			Effect:   "Allow",
			Action:   []string{"iam:AttachRolePolicy"},
			Resource: []string{"*"},
			Condition: awspolicy.Condition{
				"StringEquals": {"aws:ResourceTag/Project": {s.Project}},
				"ArnLike":      {"iam:PolicyARN": {"arn:aws:iam::aws:policy/service-role/*"}},
			},
		},
		awspolicy.Statement{
			Sid:       "PassRolesToThePlatformsServices",
			Effect:    "Allow",
			Action:    []string{"iam:PassRole"},
			Resource:  []string{"*"},
			Condition: awspolicy.Condition{"StringEquals": {"iam:PassedToService": serviceRolePassedTo}},
		},
		awspolicy.Statement{
			Sid:       "ServiceLinkedRoles",
			Effect:    "Allow",
			Action:    []string{"iam:CreateServiceLinkedRole"},
			Resource:  []string{"*"},
			Condition: awspolicy.Condition{"StringEquals": {"iam:AWSServiceName": serviceLinkedRoles}},
		},
		awspolicy.Statement{
			Sid:      "NeverTheBootstrapsRoles",
			Effect:   "Deny",
			Action:   []string{"iam:*"},
			Resource: ownRoles,
		},
		awspolicy.Statement{
			Sid:    "NeverTheSecretsKey",
			Effect: "Deny",
			Action: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant",
				"kms:DeleteAlias", "kms:UpdateAlias"},
			Resource:  []string{"*"},
			Condition: awspolicy.Condition{"ForAnyValue:StringEquals": {"kms:ResourceAliases": {s.secretsKeyAlias()}}},
		},
	)
}

// regional expands a pattern such as ssm.%s.amazonaws.com per region.
func regional(regions []string, pattern string) []string {
	out := make([]string, 0, len(regions))
	for _, r := range regions {
		out = append(out, fmt.Sprintf(pattern, r))
	}
	return out
}
