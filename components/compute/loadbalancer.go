package compute

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/waf"
)

// TLSPolicy accepts TLS 1.2 and 1.3 only.
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// Idle timeouts: WebSocket connections stay open far longer than requests.
const (
	idleTimeout          = 60
	webSocketIdleTimeout = 3600
)

// loadBalancer is the ALB and the listener that carries the routing rules.
type loadBalancer struct {
	alb       *lb.LoadBalancer
	listener  *lb.Listener // HTTPS when TLS is on, else HTTP
	listeners []pulumi.Resource
}

// lbName fits the environment's name into the ALB's 32 characters.
func lbName(project, environment string) string {
	name := project + "-" + environment
	if len(name) > 32 {
		name = name[:32]
	}
	return strings.TrimRight(name, "-")
}

// newLoadBalancer creates the internet-facing ALB in the public subnets. Its
// default action is a fixed 404, or the service that routes /* when one
// does; rules route every other path.
func newLoadBalancer(ctx *pulumi.Context, c *Compute, name string, args *ComputeArgs, defaultTarget pulumi.StringInput) (*loadBalancer, error) {
	opts := pulumi.Parent(c)
	timeout := idleTimeout
	for _, s := range args.Services {
		if s.WebSockets {
			timeout = webSocketIdleTimeout
		}
	}
	// An internal load balancer lives with the tasks, in the private subnets.
	subnets := args.Network.PublicSubnetIds
	if args.LoadBalancer.Internal {
		subnets = args.Network.PrivateSubnetIds
	}
	lbArgs := &lb.LoadBalancerArgs{
		Name:                     pulumi.String(lbName(args.Project, args.Environment)),
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(args.LoadBalancer.Internal),
		Subnets:                  subnets,
		SecurityGroups:           pulumi.StringArray{args.Network.LoadBalancerSecurityGroupId},
		DropInvalidHeaderFields:  pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(args.LoadBalancer.DeletionProtection),
		IdleTimeout:              pulumi.Int(timeout),
		EnableHttp2:              pulumi.Bool(true),
	}
	var deps []pulumi.Resource
	if args.LoadBalancer.AccessLogs {
		bucket, policy, err := newAccessLogBucket(ctx, c, name+"-access-logs", args)
		if err != nil {
			return nil, err
		}
		lbArgs.AccessLogs = &lb.LoadBalancerAccessLogsArgs{Bucket: bucket.Bucket, Enabled: pulumi.Bool(true), Prefix: pulumi.String("alb")}
		deps = append(deps, policy)
	}
	alb, err := lb.NewLoadBalancer(ctx, name, lbArgs, opts, pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}

	var forward lb.ListenerDefaultActionArray
	if defaultTarget != nil {
		forward = lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: defaultTarget}}
	} else {
		forward = lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("fixed-response"),
			FixedResponse: &lb.ListenerDefaultActionFixedResponseArgs{
				ContentType: pulumi.String("text/plain"), MessageBody: pulumi.String("Not Found"), StatusCode: pulumi.String("404"),
			},
		}}
	}

	out := &loadBalancer{alb: alb}
	httpActions := forward
	if args.Certificate != nil {
		https, err := lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn,
			Port:            pulumi.Int(443),
			Protocol:        pulumi.String("HTTPS"),
			SslPolicy:       pulumi.String(TLSPolicy),
			CertificateArn:  args.Certificate,
			DefaultActions:  forward,
		}, opts)
		if err != nil {
			return nil, err
		}
		out.listener = https
		out.listeners = append(out.listeners, https)
		httpActions = lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: &lb.ListenerDefaultActionRedirectArgs{
				Port: pulumi.String("443"), Protocol: pulumi.String("HTTPS"), StatusCode: pulumi.String("HTTP_301"),
			},
		}}
	}
	http, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions:  httpActions,
	}, opts)
	if err != nil {
		return nil, err
	}
	out.listeners = append(out.listeners, http)
	if out.listener == nil {
		out.listener = http
	}

	if args.LoadBalancer.WAF {
		if err := newWebACL(ctx, c, name, args, alb); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newAccessLogBucket holds the ALB's access logs: private, encrypted (ALB
// logs support only S3-managed keys), TLS-only, expiring with the logs'
// retention, writable only by the region's load balancer log delivery.
func newAccessLogBucket(ctx *pulumi.Context, c *Compute, name string, args *ComputeArgs) (*s3.BucketV2, *s3.BucketPolicy, error) {
	opts := pulumi.Parent(c)
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{ForceDestroy: pulumi.Bool(!args.Protect)}, opts)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts); err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts); err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("AES256"),
				},
			},
		},
	}, opts); err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("expire-access-logs"), Status: pulumi.String("Enabled"),
				Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.LogRetentionDays)},
			},
		},
	}, opts); err != nil {
		return nil, nil, err
	}
	// Regions opened before August 2022 deliver logs from a regional ELB
	// account; newer ones from the log delivery service, and have no such
	// account (the lookup fails there). Allow whichever the region uses.
	deliverers := map[string][]string{"Service": {"logdelivery.elasticloadbalancing.amazonaws.com"}}
	if elbAccount, err := elb.GetServiceAccount(ctx, &elb.GetServiceAccountArgs{}, pulumi.Parent(c)); err == nil {
		deliverers["AWS"] = []string{elbAccount.Arn}
	}
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			arn := v[0].(string)
			return awspolicy.New(
				awspolicy.Statement{Sid: "LoadBalancerDelivers", Effect: "Allow",
					Principal: deliverers,
					Action:    []string{"s3:PutObject"},
					Resource:  []string{arn + "/alb/AWSLogs/" + c.account + "/*"}},
				awspolicy.Statement{Sid: "TLSOnly", Effect: "Deny",
					Principal: map[string][]string{"AWS": {"*"}},
					Action:    []string{"s3:*"},
					Resource:  []string{arn, arn + "/*"},
					Condition: awspolicy.Condition{"Bool": {"aws:SecureTransport": {"false"}}}},
			)
		}, bucket.Arn),
	}, opts)
	return bucket, policy, err
}

func newWebACL(ctx *pulumi.Context, c *Compute, name string, args *ComputeArgs, alb *lb.LoadBalancer) error {
	acl, err := waf.NewWebACL(ctx, name, waf.Regional, "Protects the load balancer of "+args.Project+"-"+args.Environment,
		args.LoadBalancer.WAFRateLimit, pulumi.Parent(c))
	if err != nil {
		return err
	}
	_, err = wafv2.NewWebAclAssociation(ctx, name, &wafv2.WebAclAssociationArgs{
		ResourceArn: alb.Arn,
		WebAclArn:   acl.Arn,
	}, pulumi.Parent(c))
	return err
}
