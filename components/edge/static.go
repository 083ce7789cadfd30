package edge

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/waf"
)

// AWS managed CloudFront policies, by their fixed ids.
const (
	cachingOptimized      = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	securityHeadersPolicy = "67f7725c-6f97-4210-82d7-5512b31e9d03"
	// cloudFrontZoneID is the hosted zone of every CloudFront domain name,
	// which alias records point at.
	cloudFrontZoneID = "Z2FDTNDATAQYW2"
)

// StaticAssetsArgs configures StaticAssets.
type StaticAssetsArgs struct {
	Host       string
	PriceClass string
	AccessLogs bool
	ZoneId     pulumi.StringInput
	// Global is the provider in us-east-1, where CloudFront takes its
	// certificate and web ACL from; it carries the stack's other settings.
	Global pulumi.ProviderResource
	// WAF puts a CLOUDFRONT web ACL in front of the distribution.
	WAF          bool
	WAFRateLimit int
	// LogRetentionDays expires the access logs.
	LogRetentionDays int
	Protect          bool
	Description      string
}

// StaticAssets is a private bucket served at Host by CloudFront over HTTPS
// only. CI uploads to the bucket and invalidates the distribution.
type StaticAssets struct {
	pulumi.ResourceState

	BucketName     pulumi.StringOutput `pulumi:"bucketName"`
	DistributionId pulumi.StringOutput `pulumi:"distributionId"`
	DomainName     pulumi.StringOutput `pulumi:"domainName"`
}

// NewStaticAssets builds the bucket, its CloudFront distribution with
// origin access control, the us-east-1 certificate and the DNS records.
func NewStaticAssets(ctx *pulumi.Context, name string, args *StaticAssetsArgs, opts ...pulumi.ResourceOption) (*StaticAssets, error) {
	if args == nil || args.Global == nil {
		return nil, fmt.Errorf("static assets %s: args with a us-east-1 provider are required", name)
	}
	a := &StaticAssets{}
	if err := ctx.RegisterComponentResource("saas:edge:StaticAssets", name, a, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(a)
	global := []pulumi.ResourceOption{parent, pulumi.Provider(args.Global)}

	// SSE-S3: origin access control reads SSE-KMS objects only when the
	// key's policy admits CloudFront, which the environment's key does not.
	bucket, err := privateBucket(ctx, name, args.Protect, "BucketOwnerEnforced", 0, parent)
	if err != nil {
		return nil, fmt.Errorf("static assets %s: %w", name, err)
	}
	if _, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent); err != nil {
		return nil, err
	}
	oac, err := cloudfront.NewOriginAccessControl(ctx, name, &cloudfront.OriginAccessControlArgs{
		Description:                   pulumi.String("Reads the static assets of " + args.Description),
		OriginAccessControlOriginType: pulumi.String("s3"),
		SigningBehavior:               pulumi.String("always"),
		SigningProtocol:               pulumi.String("sigv4"),
	}, parent)
	if err != nil {
		return nil, err
	}
	cert, err := NewValidatedCertificate(ctx, name, args.ZoneId, []string{args.Host}, global...)
	if err != nil {
		return nil, fmt.Errorf("static assets %s: certificate: %w", name, err)
	}

	dist := &cloudfront.DistributionArgs{
		Comment:           pulumi.String("Static assets of " + args.Description),
		Enabled:           pulumi.Bool(true),
		IsIpv6Enabled:     pulumi.Bool(true),
		HttpVersion:       pulumi.String("http2and3"),
		PriceClass:        pulumi.String(args.PriceClass),
		Aliases:           pulumi.StringArray{pulumi.String(args.Host)},
		DefaultRootObject: pulumi.String("index.html"),
		Origins: cloudfront.DistributionOriginArray{cloudfront.DistributionOriginArgs{
			OriginId:              pulumi.String("static"),
			DomainName:            bucket.BucketRegionalDomainName,
			OriginAccessControlId: oac.ID(),
		}},
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:          pulumi.String("static"),
			ViewerProtocolPolicy:    pulumi.String("redirect-to-https"),
			AllowedMethods:          pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS"}),
			CachedMethods:           pulumi.ToStringArray([]string{"GET", "HEAD"}),
			Compress:                pulumi.Bool(true),
			CachePolicyId:           pulumi.String(cachingOptimized),
			ResponseHeadersPolicyId: pulumi.String(securityHeadersPolicy),
		},
		Restrictions: &cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
		ViewerCertificate: &cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn:      cert,
			SslSupportMethod:       pulumi.String("sni-only"),
			MinimumProtocolVersion: pulumi.String("TLSv1.2_2021"),
		},
	}
	if args.WAF {
		acl, err := waf.NewWebACL(ctx, name, waf.CloudFront, "Protects the static assets of "+args.Description, args.WAFRateLimit, global...)
		if err != nil {
			return nil, err
		}
		dist.WebAclId = acl.Arn
	}
	if args.AccessLogs {
		// CloudFront's standard logs are written with an ACL grant, so the
		// log bucket keeps ACLs on, owned by the bucket owner.
		logs, err := privateBucket(ctx, name+"-access-logs", args.Protect, "BucketOwnerPreferred", args.LogRetentionDays, parent)
		if err != nil {
			return nil, err
		}
		if _, err := s3.NewBucketPolicy(ctx, name+"-access-logs", &s3.BucketPolicyArgs{
			Bucket: logs.ID(),
			Policy: awspolicy.Output(func(v []any) awspolicy.Document { return awspolicy.New(tlsOnly(v[0].(string))) }, logs.Arn),
		}, parent); err != nil {
			return nil, err
		}
		dist.LoggingConfig = &cloudfront.DistributionLoggingConfigArgs{
			Bucket: logs.BucketDomainName, Prefix: pulumi.String("cloudfront/"), IncludeCookies: pulumi.Bool(false),
		}
	}
	distribution, err := cloudfront.NewDistribution(ctx, name, dist, parent)
	if err != nil {
		return nil, err
	}

	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			arn, distributionArn := v[0].(string), v[1].(string)
			return awspolicy.New(
				awspolicy.Statement{Sid: "CloudFrontReads", Effect: "Allow",
					Principal: map[string][]string{"Service": {"cloudfront.amazonaws.com"}},
					Action:    []string{"s3:GetObject"},
					Resource:  []string{arn + "/*"},
					Condition: awspolicy.Condition{"StringEquals": {"AWS:SourceArn": {distributionArn}}}},
				tlsOnly(arn))
		}, bucket.Arn, distribution.Arn),
	}, parent); err != nil {
		return nil, err
	}
	if err := NewAliasRecords(ctx, name, args.ZoneId, []string{args.Host},
		AliasTarget{DnsName: distribution.DomainName, ZoneId: pulumi.String(cloudFrontZoneID)}, parent); err != nil {
		return nil, err
	}

	a.BucketName, a.DistributionId, a.DomainName = bucket.Bucket, distribution.ID().ToStringOutput(), distribution.DomainName
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"bucketName": a.BucketName, "distributionId": a.DistributionId, "domainName": a.DomainName,
	}); err != nil {
		return nil, err
	}
	return a, nil
}

// privateBucket is an SSE-S3 bucket with public access blocked; expireDays
// above 0 expires its objects. Its caller writes its policy.
func privateBucket(ctx *pulumi.Context, name string, protect bool, ownership string, expireDays int, parent pulumi.ResourceOption) (*s3.BucketV2, error) {
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{ForceDestroy: pulumi.Bool(!protect)},
		parent, pulumi.Protect(protect), pulumi.RetainOnDelete(protect))
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, parent); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String(ownership)},
	}, parent); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
		}},
	}, parent); err != nil {
		return nil, err
	}
	if expireDays > 0 {
		if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
			Bucket: bucket.ID(),
			Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("expire"), Status: pulumi.String("Enabled"),
				Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(expireDays)},
			}},
		}, parent); err != nil {
			return nil, err
		}
	}
	return bucket, nil
}

// tlsOnly refuses every request to a bucket that does not use TLS.
func tlsOnly(arn string) awspolicy.Statement {
	return awspolicy.Statement{Sid: "TLSOnly", Effect: "Deny",
		Principal: map[string][]string{"AWS": {"*"}},
		Action:    []string{"s3:*"},
		Resource:  []string{arn, arn + "/*"},
		Condition: awspolicy.Condition{"Bool": {"aws:SecureTransport": {"false"}}}}
}
