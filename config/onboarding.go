package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Onboarding is the `onboarding` section: the run-time onboarding API for
// pool tenants, and who may call it. No callers: no API.
type Onboarding struct {
	// Callers are the IAM principals allowed to call the API: role or user
	// ARNs, or service:<name> for a service's task role.
	Callers []string `json:"callers"`
}

// Enabled reports whether the stack runs the onboarding API.
func (o Onboarding) Enabled() bool { return len(o.Callers) > 0 }

// ServiceCallerPrefix names a stack service as a caller: service:<name>.
const ServiceCallerPrefix = "service:"

// CallerService returns the service a caller names, if it names one.
func CallerService(caller string) (string, bool) {
	return strings.CutPrefix(caller, ServiceCallerPrefix)
}

// MaxTenantIDLength is the longest tenant id the stack accepts. The
// longest identifier a tenant id ends up in is its silo instance:
// <project>-<stack>-<id>, at most 63 characters. The onboarding API applies
// it too, so that a run-time tenant can always move into the stack file.
func (s *Stack) MaxTenantIDLength() int {
	return maxIdentifierLength - len(s.Project) - len(s.Name) - 2
}

// iamPrincipal is a role or user ARN: names of 1 to 64 characters from
// IAM's set, with an optional path.
var iamPrincipal = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:(role|user)/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$`)

func (v *validator) onboarding() {
	o := v.stack.Onboarding
	key := v.key(KeyOnboarding) + ".callers"
	services := map[string]bool{}
	for _, s := range v.stack.Services {
		services[s.Name] = true
	}
	seen := map[string]int{}
	for i, c := range o.Callers {
		k := fmt.Sprintf("%s[%d]", key, i)
		if first, dup := seen[c]; dup {
			v.problem(k, c, fmt.Sprintf("is already listed at %s[%d]", key, first))
			continue
		}
		seen[c] = i
		if name, ok := CallerService(c); ok {
			if !services[name] {
				v.problem(k, c, "names no service of this stack: service:<name> allows that service's task role")
			}
			continue
		}
		m := iamPrincipal.FindStringSubmatch(c)
		switch {
		case m == nil:
			v.problem(k, c, "must be an IAM role or user ARN (arn:aws:iam::<account>:role/<name>, arn:aws:iam::<account>:user/<name>) "+
				"or service:<name>: the API is never public, and an account or a wildcard would admit every principal its policies allow")
		case m[1] != partition(v.stack.Region):
			v.problem(k, c, fmt.Sprintf("is in partition %s: the stack's region %s is in %s", m[1], v.stack.Region, partition(v.stack.Region)))
		}
	}
}
