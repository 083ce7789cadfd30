// Package s3bucket makes the platform's buckets one way: public access
// blocked, encrypted, TLS-only, expiring and versioned when asked, and
// protected and retained where the environment protects its data.
package s3bucket

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// Args configures a bucket.
type Args struct {
	// KMSKeyArn encrypts objects with that key, with S3 bucket keys; nil
	// means SSE-S3, the only encryption load balancer and CloudFront log
	// delivery accept, and what CloudFront's origin access control reads
	// without a key policy for it.
	KMSKeyArn pulumi.StringInput
	// ObjectOwnership is BucketOwnerEnforced (ACLs off) unless set:
	// CloudFront's standard logs need BucketOwnerPreferred.
	ObjectOwnership string
	Versioned       bool
	// ExpireAfterDays above 0 expires objects (and old versions) then;
	// ExpireRuleID names the rule (default "expire").
	ExpireAfterDays int
	ExpireRuleID    string
	// Protect refuses deletion while the bucket holds objects, and
	// protects and retains the bucket in the stack.
	Protect bool
	Tags    pulumi.StringMap
	// Statements are the policy's statements besides TLSOnly, built from
	// the bucket's ARN and the resolved PolicyInputs.
	Statements   func(arn string, inputs []any) []awspolicy.Statement
	PolicyInputs []any
	// PolicyLater leaves the policy to AttachPolicy, for a policy that
	// names something made from the bucket (a CloudFront distribution).
	PolicyLater bool
}

// Bucket is a bucket and its policy; resources that write to the bucket
// depend on the policy.
type Bucket struct {
	*s3.BucketV2
	Policy *s3.BucketPolicy
}

// New makes a bucket named name with opts (its parent, its provider).
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Bucket, error) {
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{ForceDestroy: pulumi.Bool(!args.Protect), Tags: args.Tags},
		append(opts, pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))...)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return nil, err
	}
	ownership := args.ObjectOwnership
	if ownership == "" {
		ownership = "BucketOwnerEnforced"
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String(ownership)},
	}, opts...); err != nil {
		return nil, err
	}
	encryption := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	rule := s3.BucketServerSideEncryptionConfigurationV2RuleArgs{ApplyServerSideEncryptionByDefault: encryption}
	if args.KMSKeyArn != nil {
		encryption.SseAlgorithm, encryption.KmsMasterKeyId = pulumi.String("aws:kms"), args.KMSKeyArn
		// One data key per bucket instead of one KMS call per object.
		rule.BucketKeyEnabled = pulumi.Bool(true)
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(), Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{rule},
	}, opts...); err != nil {
		return nil, err
	}
	if args.Versioned {
		if _, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, opts...); err != nil {
			return nil, err
		}
	}
	if args.ExpireAfterDays > 0 {
		if err := expire(ctx, name, bucket, args, opts); err != nil {
			return nil, err
		}
	}
	b := &Bucket{BucketV2: bucket}
	if args.PolicyLater {
		return b, nil
	}
	if err := b.AttachPolicy(ctx, name, args.Statements, args.PolicyInputs, opts...); err != nil {
		return nil, err
	}
	return b, nil
}

// AttachPolicy gives the bucket its policy: statements, built from the
// bucket's ARN and the resolved inputs, and TLSOnly.
func (b *Bucket) AttachPolicy(ctx *pulumi.Context, name string, statements func(arn string, inputs []any) []awspolicy.Statement,
	inputs []any, opts ...pulumi.ResourceOption) error {
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: b.ID(),
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			arn := v[0].(string)
			var own []awspolicy.Statement
			if statements != nil {
				own = statements(arn, v[1:])
			}
			return awspolicy.New(append(own, TLSOnly(arn))...)
		}, append([]any{b.Arn}, inputs...)...),
	}, opts...)
	b.Policy = policy
	return err
}

func expire(ctx *pulumi.Context, name string, bucket *s3.BucketV2, args Args, opts []pulumi.ResourceOption) error {
	id := args.ExpireRuleID
	if id == "" {
		id = "expire"
	}
	rule := s3.BucketLifecycleConfigurationV2RuleArgs{
		Id: pulumi.String(id), Status: pulumi.String("Enabled"),
		Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.ExpireAfterDays)},
		AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
			DaysAfterInitiation: pulumi.Int(7),
		},
	}
	if args.Versioned {
		rule.NoncurrentVersionExpiration = &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(args.ExpireAfterDays),
		}
	}
	_, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(), Rules: s3.BucketLifecycleConfigurationV2RuleArray{rule},
	}, opts...)
	return err
}

// TLSOnly refuses every request to a bucket that does not use TLS.
func TLSOnly(arn string) awspolicy.Statement {
	return awspolicy.Statement{Sid: "TLSOnly", Effect: "Deny",
		Principal: map[string][]string{"AWS": {"*"}},
		Action:    []string{"s3:*"},
		Resource:  []string{arn, arn + "/*"},
		Condition: awspolicy.Condition{"Bool": {"aws:SecureTransport": {"false"}}}}
}
