// Package waf builds the environment's web ACLs: AWS's managed common rule
// set and a rate limit per IP, for the load balancer (REGIONAL) and for
// CloudFront (CLOUDFRONT, which AWS keeps in us-east-1).
package waf

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Scopes of a web ACL.
const (
	Regional   = "REGIONAL"
	CloudFront = "CLOUDFRONT"
)

// NewWebACL makes a web ACL that allows by default and blocks what the
// managed common rules match and any IP above rateLimit requests per five
// minutes.
func NewWebACL(ctx *pulumi.Context, name, scope, description string, rateLimit int, opts ...pulumi.ResourceOption) (*wafv2.WebAcl, error) {
	return wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Description:   pulumi.String(description),
		Scope:         pulumi.String(scope),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		RuleJson:      pulumi.String(Rules(rateLimit)),
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), MetricName: pulumi.String(name), SampledRequestsEnabled: pulumi.Bool(true),
		},
	}, opts...)
}

// Rules is the rule set, as the JSON WAF takes.
func Rules(rateLimit int) string {
	visibility := func(metric string) map[string]any {
		return map[string]any{"CloudWatchMetricsEnabled": true, "MetricName": metric, "SampledRequestsEnabled": true}
	}
	rules := []map[string]any{
		{
			"Name": "aws-common-rules", "Priority": 1,
			"OverrideAction": map[string]any{"None": map[string]any{}},
			"Statement": map[string]any{"ManagedRuleGroupStatement": map[string]any{
				"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
			}},
			"VisibilityConfig": visibility("aws-common-rules"),
		},
		{
			"Name": "rate-limit-per-ip", "Priority": 2,
			"Action": map[string]any{"Block": map[string]any{}},
			"Statement": map[string]any{"RateBasedStatement": map[string]any{
				"Limit": rateLimit, "AggregateKeyType": "IP",
			}},
			"VisibilityConfig": visibility("rate-limit-per-ip"),
		},
	}
	// Maps of strings and numbers only: Marshal cannot fail.
	b, _ := json.Marshal(rules)
	return string(b)
}
