package compute

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/s3bucket"
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
		bucket, err := newAccessLogBucket(ctx, c, name+"-access-logs", args)
		if err != nil {
			return nil, err
		}
		lbArgs.AccessLogs = &lb.LoadBalancerAccessLogsArgs{Bucket: bucket.Bucket, Enabled: pulumi.Bool(true), Prefix: pulumi.String("alb")}
		deps = append(deps, bucket.Policy)
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
func newAccessLogBucket(ctx *pulumi.Context, c *Compute, name string, args *ComputeArgs) (*s3bucket.Bucket, error) {
	// Regions opened before August 2022 deliver logs from a regional ELB
	// account; newer ones from the log delivery service, and have no such
	// account (the lookup fails there). Allow whichever the region uses.
	deliverers := map[string][]string{"Service": {"logdelivery.elasticloadbalancing.amazonaws.com"}}
	if elbAccount, err := elb.GetServiceAccount(ctx, &elb.GetServiceAccountArgs{}, pulumi.Parent(c)); err == nil {
		deliverers["AWS"] = []string{elbAccount.Arn}
	}
	return s3bucket.New(ctx, name, s3bucket.Args{
		ExpireAfterDays: args.LogRetentionDays, ExpireRuleID: "expire-access-logs", Protect: args.Protect,
		Statements: func(arn string, _ []any) []awspolicy.Statement {
			return []awspolicy.Statement{{Sid: "LoadBalancerDelivers", Effect: "Allow",
				Principal: deliverers,
				Action:    []string{"s3:PutObject"},
				Resource:  []string{arn + "/alb/AWSLogs/" + c.account + "/*"}}}
		},
	}, pulumi.Parent(c))
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
