package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"

	"github.com/saas-platform/saas-platform/internal/imageref"
)

// Checks of values that end up somewhere a wrong character does harm (a
// container's command, an email subscription, an AWS API call): each
// accepts what the value's own grammar allows, narrowed where the wider
// grammar would let shell or YAML syntax through.

// EmailRule says what an email address may be.
const EmailRule = "must be an email address such as ops@example.com: letters, digits and . _ % + - before the @, a DNS domain after it"

var (
	emailLocal  = regexp.MustCompile(`^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*$`)
	emailDomain = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$`)
)

// ValidEmail reports whether s is an address SNS and SES take and that no
// shell or template could misread: the common subset of RFC 5322's
// dot-atom (no quotes, $, `, |, &, ', spaces or comments).
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && len(s) <= 254 && len(local) <= 64 && emailLocal.MatchString(local) && emailDomain.MatchString(domain)
}

// ImageRule says what an image reference may be.
const ImageRule = imageref.Rule

// ValidImage reports whether s is an image reference by the OCI grammar.
func ValidImage(s string) bool { return imageref.Valid(s) }

// HealthCheckPathRule says what a health check path may be.
const HealthCheckPathRule = "must be a URL path starting with /, with an optional ?query, such as /api/health or /health?deep=1&db=1: " +
	"letters, digits, - . _ ~ / : @ + , = and %XX escapes (and & ? in the query), at most 1024 characters"

var (
	healthPath  = regexp.MustCompile(`^/([A-Za-z0-9._~/:@+,=-]|%[0-9A-Fa-f]{2})*$`)
	healthQuery = regexp.MustCompile(`^([A-Za-z0-9._~/:@+,=&?-]|%[0-9A-Fa-f]{2})*$`)
)

// ValidHealthCheckPath reports whether s is a path and optional query the
// load balancer can request and a container's check can pass, quoted, to
// curl or wget: none of its characters means anything to a shell.
func ValidHealthCheckPath(s string) bool {
	p, query, _ := strings.Cut(s, "?")
	return len(s) <= 1024 && healthPath.MatchString(p) && healthQuery.MatchString(query)
}

// ALB path patterns: AWS's documented characters, less the quotes, $ and
// & (which the API wants escaped).
var pathPattern = regexp.MustCompile(`^/[A-Za-z0-9_./~@:+*?-]*$`)

// knownRegions are the regions the pinned AWS provider knows.
var knownRegions = []string{
	string(aws.RegionAFSouth1), string(aws.RegionAPEast1), string(aws.RegionAPNortheast1), string(aws.RegionAPNortheast2),
	string(aws.RegionAPNortheast3), string(aws.RegionAPSouth1), string(aws.RegionAPSouth2), string(aws.RegionAPSoutheast1),
	string(aws.RegionAPSoutheast2), string(aws.RegionAPSoutheast3), string(aws.RegionAPSoutheast4), string(aws.RegionAPSoutheast5),
	string(aws.RegionAPSoutheast7), string(aws.RegionCACentral), string(aws.RegionCAWest1), string(aws.RegionEUCentral1),
	string(aws.RegionEUCentral2), string(aws.RegionEUNorth1), string(aws.RegionEUSouth1), string(aws.RegionEUSouth2),
	string(aws.RegionEUWest1), string(aws.RegionEUWest2), string(aws.RegionEUWest3), string(aws.RegionILCentral1),
	string(aws.RegionMECentral1), string(aws.RegionMESouth1), string(aws.RegionMXCentral1), string(aws.RegionSAEast1),
	string(aws.RegionUSEast1), string(aws.RegionUSEast2), string(aws.RegionUSWest1), string(aws.RegionUSWest2),
	string(aws.RegionCNNorth1), string(aws.RegionCNNorthwest1), string(aws.RegionUSGovEast1), string(aws.RegionUSGovWest1),
	string(aws.RegionUSISOEast1), string(aws.RegionUSISOWest1), string(aws.RegionUSISOBEast1), string(aws.RegionEUISOEWest1),
}

// KnownRegions lists the AWS regions the program accepts without
// saas-platform:additionalRegions: those of the pinned provider, sorted.
func KnownRegions() []string {
	return slices.Sorted(slices.Values(knownRegions))
}

// region checks a region: one the provider knows, or one the stack file
// names in additionalRegions, for a region AWS opened after the pinned
// provider's release.
func (v *validator) region(key, region, empty string) {
	switch {
	case region == "":
		v.problem(key, "", empty)
	case slices.Contains(knownRegions, region) || slices.Contains(v.stack.AdditionalRegions, region):
	case regionPattern.MatchString(region):
		v.problem(key, region, fmt.Sprintf(
			"is not an AWS region the pinned provider knows (%s); if AWS opened it since, list it in %s",
			strings.Join(KnownRegions(), ", "), v.key(KeyAdditionalRegions)))
	default:
		v.problem(key, region, "must be an AWS region such as ap-northeast-1")
	}
}

func (v *validator) additionalRegions() {
	for i, r := range v.stack.AdditionalRegions {
		if !regionPattern.MatchString(r) || len(r) > 32 {
			v.problem(fmt.Sprintf("%s[%d]", v.key(KeyAdditionalRegions), i), r, "must be an AWS region name such as ap-southeast-9")
		}
	}
}

// referenceName is what may stand between ${ and }.
var referenceName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// referenceSyntax finds a ${ that is not closed, or whose name cannot be
// a reference: left in, it would reach the container as it was written.
func referenceSyntax(value string) (string, bool) {
	rest := value
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			return "", true
		}
		rest = rest[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "${" + abbreviate(rest), false
		}
		if !referenceName.MatchString(rest[:end]) {
			return "${" + rest[:end] + "}", false
		}
		rest = rest[end+1:]
	}
}
