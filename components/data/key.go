// Package data owns everything stateful in an environment: the
// environment's KMS key, the shared PostgreSQL, the tenants' databases (pool
// and silo), the function that provisions pool tenants, Redis, AWS Backup,
// and the Secrets Manager secrets and SSM parameters through which services
// find them.
package data

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// EncryptionKeyArgs configures an EncryptionKey.
type EncryptionKeyArgs struct {
	// Alias names the key, e.g. alias/saas-platform/dev.
	Alias  string
	Region string
	// LogGroupPatterns are the log group names (wildcards allowed) that
	// CloudWatch Logs may encrypt with the key.
	LogGroupPatterns []string
	Protect          bool
}

// EncryptionKey is the environment's customer-managed KMS key: RDS,
// ElastiCache, Secrets Manager, SSM SecureString parameters, the log groups
// and the backup vault all encrypt with it.
type EncryptionKey struct {
	pulumi.ResourceState

	Arn   pulumi.StringOutput `pulumi:"arn"`
	KeyId pulumi.StringOutput `pulumi:"keyId"`
}

// NewEncryptionKey creates the key with yearly rotation and its alias.
func NewEncryptionKey(ctx *pulumi.Context, name string, args *EncryptionKeyArgs, opts ...pulumi.ResourceOption) (*EncryptionKey, error) {
	k := &EncryptionKey{}
	if err := ctx.RegisterComponentResource("saas:data:EncryptionKey", name, k, opts...); err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(k))
	if err != nil {
		return nil, fmt.Errorf("key %s: reading the account id: %w", name, err)
	}
	var logGroupArns []string
	for _, pattern := range args.LogGroupPatterns {
		logGroupArns = append(logGroupArns, fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", args.Region, caller.AccountId, pattern))
	}
	policy := awspolicy.New(
		awspolicy.Statement{
			// Without this the key could lock out the account; IAM policies
			// then decide who in the account may use it.
			Sid:       "AccountAdministers",
			Effect:    "Allow",
			Principal: map[string][]string{"AWS": {fmt.Sprintf("arn:aws:iam::%s:root", caller.AccountId)}},
			Action:    []string{"kms:*"},
			Resource:  []string{"*"},
		},
		awspolicy.Statement{
			Sid:       "CloudWatchLogsEncryptsThisEnvironmentsLogGroups",
			Effect:    "Allow",
			Principal: map[string][]string{"Service": {fmt.Sprintf("logs.%s.amazonaws.com", args.Region)}},
			Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			Resource:  []string{"*"},
			Condition: awspolicy.Condition{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logGroupArns}},
		},
		awspolicy.Statement{
			// Alarms publish to the encrypted alert topic; this is AWS's
			// documented statement (the topic policy limits who publishes).
			Sid:       "CloudWatchAlarmsPublishToTheAlertTopic",
			Effect:    "Allow",
			Principal: map[string][]string{"Service": {"cloudwatch.amazonaws.com"}},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
			Resource:  []string{"*"},
		},
	)
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String("Encrypts the data of " + args.Alias),
		EnableKeyRotation:    pulumi.Bool(true),
		RotationPeriodInDays: pulumi.Int(365),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(policy.String()),
	}, pulumi.Parent(k), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.String(args.Alias),
		TargetKeyId: key.KeyId,
	}, pulumi.Parent(k)); err != nil {
		return nil, fmt.Errorf("key %s: alias: %w", name, err)
	}
	k.Arn, k.KeyId = key.Arn, key.KeyId
	if err := ctx.RegisterResourceOutputs(k, pulumi.Map{"arn": k.Arn, "keyId": k.KeyId}); err != nil {
		return nil, err
	}
	return k, nil
}
