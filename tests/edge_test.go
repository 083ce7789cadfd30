package tests

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	recordType       = "aws:route53/record:Record"
	certificateType  = "aws:acm/certificate:Certificate"
	distributionType = "aws:cloudfront/distribution:Distribution"
)

func planEdge(t *testing.T) *plan.Result {
	t.Helper()
	result, err := planFile(t, "testdata/Pulumi.edge.yaml", "edge")
	require.NoError(t, err)
	return result
}

func TestTheDomainAndEveryHostPointAtTheLoadBalancer(t *testing.T) {
	result := planEdge(t)
	alb := plan.OfType(result.Resources, "aws:lb/loadBalancer:LoadBalancer")
	require.Len(t, alb, 1)
	aliases := map[string]bool{}
	for _, r := range plan.OfType(result.Resources, recordType) {
		if r.Count("aliases") == 0 {
			continue
		}
		if strings.HasSuffix(r.String("aliases.0.name"), ".cloudfront.net") {
			continue
		}
		aliases[r.String("name")+" "+r.String("type")] = true
		assert.Equal(t, "Z14GRHDCWA56QT", r.String("aliases.0.zoneId"), r.Name)
		assert.Contains(t, r.String("aliases.0.name"), ".elb.amazonaws.com", r.Name)
		assert.True(t, r.Bool("aliases.0.evaluateTargetHealth"), "%s follows the load balancer's health", r.Name)
		assert.NotEmpty(t, r.String("zoneId"), "the zone looked up by name")
	}
	assert.Equal(t, map[string]bool{
		"app.example.com A": true, "app.example.com AAAA": true, "admin.example.com A": true, "admin.example.com AAAA": true,
	}, aliases)
	assert.Equal(t, "https://app.example.com", result.Outputs["url"])
}

func TestWithoutACertificateTheProgramRequestsOneAndWaitsForItsValidation(t *testing.T) {
	result := planEdge(t)
	cert, ok := plan.Named(result.Resources, certificateType, "saas-platform-edge")
	require.True(t, ok)
	assert.Equal(t, "app.example.com", cert.String("domainName"))
	assert.Equal(t, []string{"admin.example.com"}, cert.Strings("subjectAlternativeNames"), "the hosts services route")
	assert.Equal(t, "DNS", cert.String("validationMethod"))

	validation, ok := plan.Named(result.Resources, "aws:acm/certificateValidation:CertificateValidation", "saas-platform-edge")
	require.True(t, ok)
	assert.Len(t, validation.Strings("validationRecordFqdns"), 2, "one record per name")
	for _, name := range []string{"app.example.com", "admin.example.com"} {
		record, ok := plan.Named(result.Resources, recordType, "saas-platform-edge-validation-"+name)
		require.True(t, ok, name)
		assert.Equal(t, "CNAME", record.String("type"))
		assert.Contains(t, record.String("name"), "."+name+".", "ACM's record for this name")
	}

	https, ok := plan.Named(result.Resources, "aws:lb/listener:Listener", "saas-platform-edge-https")
	require.True(t, ok)
	assert.True(t, strings.HasPrefix(https.String("certificateArn"), "arn:aws:acm:ap-northeast-1:"), "the validated certificate")
	assert.Contains(t, strings.Join(https.Dependencies, " "), "CertificateValidation", "the listener waits for validation")
}

func TestAGivenCertificateIsUsedAsItIs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.given.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:domain:
    name: app.example.com
    zone: example.com
    certificateArn: arn:aws:acm:ap-northeast-1:123456789012:certificate/given
`), 0o600))
	result, err := planFile(t, file, "given")
	require.NoError(t, err)
	assert.Empty(t, plan.OfType(result.Resources, certificateType))
	https, ok := plan.Named(result.Resources, "aws:lb/listener:Listener", "saas-platform-given-https")
	require.True(t, ok)
	assert.Equal(t, "arn:aws:acm:ap-northeast-1:123456789012:certificate/given", https.String("certificateArn"))
	assert.Equal(t, "https://app.example.com", result.Outputs["url"])
	_, ok = plan.Named(result.Resources, recordType, "saas-platform-given-app.example.com-a")
	assert.True(t, ok, "the zone still gets the name's records")
}

// Without a zone the team points DNS at the load balancer itself; the
// environment still answers at its name.
func TestTheURLIsTheDomainWheneverTheStackNamesOne(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.named.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:domain:
    name: app.example.com
    certificateArn: arn:aws:acm:ap-northeast-1:123456789012:certificate/given
`), 0o600))
	result, err := planFile(t, file, "named")
	require.NoError(t, err)
	assert.Equal(t, "https://app.example.com", result.Outputs["url"])
	dev := planStack(t, "dev")
	assert.Regexp(t, `^http://saas-platform-dev-[0-9a-f]+\.ap-northeast-1\.elb\.amazonaws\.com$`, dev.Outputs["url"], "no domain: the load balancer, over HTTP")
}

func TestHostsAndPathsCombineInOneRule(t *testing.T) {
	result := planEdge(t)
	conditions := func(name string) map[string][]string {
		rule, ok := plan.Named(result.Resources, "aws:lb/listenerRule:ListenerRule", name)
		require.True(t, ok, name)
		out := map[string][]string{}
		for i := range rule.Count("conditions") {
			for _, kind := range []string{"hostHeader", "pathPattern"} {
				if values := rule.Strings("conditions." + string(rune('0'+i)) + "." + kind + ".values"); len(values) > 0 {
					out[kind] = values
				}
			}
		}
		return out
	}
	assert.Equal(t, map[string][]string{"hostHeader": {"admin.example.com"}}, conditions("admin"))
	assert.Equal(t, map[string][]string{"hostHeader": {"admin.example.com"}, "pathPattern": {"/reports/*"}}, conditions("reports"))
	assert.Equal(t, map[string][]string{"pathPattern": {"/api/*"}}, conditions("api"))
}

func TestStaticAssetsArePrivateAndServedByCloudFrontOverHTTPSOnly(t *testing.T) {
	result := planEdge(t)
	dist := plan.OfType(result.Resources, distributionType)
	require.Len(t, dist, 1)
	d := dist[0]
	assert.Equal(t, []string{"static.example.com"}, d.Strings("aliases"))
	assert.Equal(t, "PriceClass_200", d.String("priceClass"))
	assert.Equal(t, "redirect-to-https", d.String("defaultCacheBehavior.viewerProtocolPolicy"))
	assert.Equal(t, "67f7725c-6f97-4210-82d7-5512b31e9d03", d.String("defaultCacheBehavior.responseHeadersPolicyId"), "AWS's security headers policy")
	assert.Equal(t, "TLSv1.2_2021", d.String("viewerCertificate.minimumProtocolVersion"))
	assert.NotEmpty(t, d.String("origins.0.originAccessControlId"))
	assert.Contains(t, d.String("origins.0.domainName"), ".s3.ap-northeast-1.amazonaws.com")
	assert.Contains(t, d.String("webAclId"), "arn:aws:wafv2:", "the stack's WAF setting protects CloudFront too")
	assert.Equal(t, "cloudfront/", d.String("loggingConfig.prefix"))

	global, ok := plan.Named(result.Resources, providerType, "saas-platform-edge-us-east-1")
	require.True(t, ok)
	cert, ok := plan.Named(result.Resources, certificateType, "saas-platform-edge-static")
	require.True(t, ok)
	assert.Equal(t, global.URN, cert.Provider, "CloudFront's certificate is in us-east-1")
	acl, ok := plan.Named(result.Resources, "aws:wafv2/webAcl:WebAcl", "saas-platform-edge-static")
	require.True(t, ok)
	assert.Equal(t, "CLOUDFRONT", acl.String("scope"))
	assert.Equal(t, global.URN, acl.Provider)

	policy, ok := plan.Named(result.Resources, "aws:s3/bucketPolicy:BucketPolicy", "saas-platform-edge-static")
	require.True(t, ok)
	assert.Contains(t, policy.String("policy"), `"Service":["cloudfront.amazonaws.com"]`)
	assert.Contains(t, policy.String("policy"), `"AWS:SourceArn":["arn:aws:cloudfront::123456789012:distribution/`, "only this distribution reads")
	assert.Contains(t, policy.String("policy"), `"aws:SecureTransport":["false"]`)

	for _, name := range []string{"static.example.com A", "static.example.com AAAA"} {
		host, kind, _ := strings.Cut(name, " ")
		record, ok := plan.Named(result.Resources, recordType, "saas-platform-edge-static-"+host+"-"+strings.ToLower(kind))
		require.True(t, ok, name)
		assert.Contains(t, record.String("aliases.0.name"), ".cloudfront.net")
		assert.Equal(t, "Z2FDTNDATAQYW2", record.String("aliases.0.zoneId"))
		assert.False(t, record.Bool("aliases.0.evaluateTargetHealth"), "Route 53 refuses target health for CloudFront")
	}
	assert.NotEmpty(t, result.Outputs["staticAssetsBucket"], "CI uploads here")
	assert.NotEmpty(t, result.Outputs["staticAssetsDistributionId"], "and invalidates this")
}

func TestOnlyTheAllowedRangesLessTheVPCReachTheLoadBalancer(t *testing.T) {
	for _, tc := range []struct {
		name, file, stack string
		allowed           []string
	}{
		{"the edge stack's ranges", "testdata/Pulumi.edge.yaml", "edge", []string{"10.0.0.0/8", "203.0.113.0/24"}},
		{"the dev stack file's placeholder", "../Pulumi.dev.yaml", "dev", []string{"203.0.113.0/24"}},
		{"prod: the internet", "../Pulumi.prod.yaml", "prod", []string{"0.0.0.0/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			result, err := planFile(t, tc.file, tc.stack)
			require.NoError(t, err)
			vpcs := plan.OfType(result.Resources, "awsx:ec2:Vpc")
			require.Len(t, vpcs, 1)
			vpc := netip.MustParsePrefix(vpcs[0].String("cidrBlock"))
			roles := groupIDs(result, tc.stack)
			ports := map[string]map[float64]bool{}
			for _, rule := range plan.OfType(result.Resources, ingressType) {
				if roles[rule.String("securityGroupId")] != "lb" {
					continue
				}
				cidr := rule.String("cidrIpv4")
				if ports[cidr] == nil {
					ports[cidr] = map[float64]bool{}
				}
				ports[cidr][rule.Number("fromPort")] = true
			}
			// The admitted ranges cover exactly the allowed addresses
			// outside the VPC: each inside an allowed range, none in the
			// VPC, and as many addresses as the allowed ranges less the
			// VPC's.
			var admitted, allowed float64
			for cidr, got := range ports {
				assert.Equal(t, map[float64]bool{80: true, 443: true}, got, cidr)
				p := netip.MustParsePrefix(cidr)
				assert.False(t, p.Overlaps(vpc), "%s admits part of the VPC", cidr)
				inside := false
				for _, a := range tc.allowed {
					inside = inside || (netip.MustParsePrefix(a).Contains(p.Addr()) && netip.MustParsePrefix(a).Bits() <= p.Bits())
				}
				assert.True(t, inside, "%s is not in an allowed range", cidr)
				admitted += math.Pow(2, float64(32-p.Bits()))
			}
			for _, a := range tc.allowed {
				p := netip.MustParsePrefix(a)
				allowed += math.Pow(2, float64(32-p.Bits()))
				if p.Overlaps(vpc) {
					allowed -= math.Pow(2, float64(32-vpc.Bits()))
				}
			}
			assert.Equal(t, allowed, admitted)
		})
	}
}

func TestAnInternalLoadBalancerLivesInThePrivateSubnets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.internal.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:loadBalancer: {internal: true, allowedCidrs: [10.0.0.0/8]}
`), 0o600))
	result, err := planFile(t, file, "internal")
	require.NoError(t, err)
	alb := plan.OfType(result.Resources, "aws:lb/loadBalancer:LoadBalancer")
	require.Len(t, alb, 1)
	assert.True(t, alb[0].Bool("internal"))
	assert.Equal(t, result.Outputs["privateSubnetIds"], toAny(alb[0].Strings("subnets")))
}

func toAny(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
