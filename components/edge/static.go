package edge

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/s3bucket"
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
	bucket, err := s3bucket.New(ctx, name, s3bucket.Args{Versioned: true, Protect: args.Protect, PolicyLater: true}, parent)
	if err != nil {
		return nil, fmt.Errorf("static assets %s: %w", name, err)
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
		logs, err := s3bucket.New(ctx, name+"-access-logs", s3bucket.Args{
			ObjectOwnership: "BucketOwnerPreferred", ExpireAfterDays: args.LogRetentionDays, Protect: args.Protect,
		}, parent)
		if err != nil {
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

	// Only this distribution reads the bucket.
	if err := bucket.AttachPolicy(ctx, name, func(arn string, v []any) []awspolicy.Statement {
		return []awspolicy.Statement{{Sid: "CloudFrontReads", Effect: "Allow",
			Principal: map[string][]string{"Service": {"cloudfront.amazonaws.com"}},
			Action:    []string{"s3:GetObject"},
			Resource:  []string{arn + "/*"},
			Condition: awspolicy.Condition{"StringEquals": {"AWS:SourceArn": {v[0].(string)}}}}}
	}, []any{distribution.Arn}, parent); err != nil {
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
