package data

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// BucketRef is what services need of a bucket: its name and ARN.
type BucketRef struct {
	Name pulumi.StringOutput
	Arn  pulumi.StringOutput
}

// newBucket makes one of the stack's own buckets: private (public access
// blocked, ACLs off), encrypted with the environment's key, TLS-only,
// versioned when asked, expiring objects when asked. With protection on the
// bucket is protected, retained when it leaves the stack file, and refuses
// deletion while it holds objects.
func newBucket(ctx *pulumi.Context, name string, b config.Bucket, keyArn pulumi.StringInput, protect bool, parent pulumi.Resource) (BucketRef, error) {
	opts := pulumi.Parent(parent)
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		ForceDestroy: pulumi.Bool(!protect),
		Tags:         pulumi.StringMap{"Bucket": pulumi.String(b.Name)},
	}, opts, pulumi.Protect(protect), pulumi.RetainOnDelete(protect))
	if err != nil {
		return BucketRef{}, fmt.Errorf("bucket %s: %w", b.Name, err)
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts); err != nil {
		return BucketRef{}, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts); err != nil {
		return BucketRef{}, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: keyArn,
				},
				// One data key per bucket instead of one KMS call per object.
				BucketKeyEnabled: pulumi.Bool(true),
			},
		},
	}, opts); err != nil {
		return BucketRef{}, err
	}
	if b.Versioned {
		if _, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, opts); err != nil {
			return BucketRef{}, err
		}
	}
	if b.ExpireAfterDays > 0 {
		rule := s3.BucketLifecycleConfigurationV2RuleArgs{
			Id: pulumi.String("expire"), Status: pulumi.String("Enabled"),
			Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(b.ExpireAfterDays)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(7),
			},
		}
		if b.Versioned {
			rule.NoncurrentVersionExpiration = &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(b.ExpireAfterDays),
			}
		}
		if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
			Bucket: bucket.ID(), Rules: s3.BucketLifecycleConfigurationV2RuleArray{rule},
		}, opts); err != nil {
			return BucketRef{}, err
		}
	}
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			arn := v[0].(string)
			return awspolicy.New(awspolicy.Statement{Sid: "TLSOnly", Effect: "Deny",
				Principal: map[string][]string{"AWS": {"*"}},
				Action:    []string{"s3:*"},
				Resource:  []string{arn, arn + "/*"},
				Condition: awspolicy.Condition{"Bool": {"aws:SecureTransport": {"false"}}}})
		}, bucket.Arn),
	}, opts); err != nil {
		return BucketRef{}, err
	}
	return BucketRef{Name: bucket.Bucket, Arn: bucket.Arn}, nil
}
